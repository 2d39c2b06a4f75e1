#define FO_ISA_NS baseline
#define FO_ISA_NAME "baseline"
#include "kernels.inc"
