#define FO_ISA_NS avx2
#define FO_ISA_NAME "avx2"
#include "kernels.inc"
