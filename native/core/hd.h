// FO_HD marks code that runs on the host and, under nvcc, on the device: the update rules
// (rules/*.h) and the decide step (decide.h) are compiled once per backend from one source.
#pragma once

#if defined(__CUDACC__)
#define FO_HD __host__ __device__ __forceinline__
#else
#define FO_HD inline __attribute__((always_inline))
#endif
