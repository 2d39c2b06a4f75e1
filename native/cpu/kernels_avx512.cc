#define FO_ISA_NS avx512
#define FO_ISA_NAME "avx512"
#include "kernels.inc"
