// The collectives the CPU engine and the addon call (no Node-API here: cpu/engine.cc includes
// it). Implemented in mpi.cc over the libmpi loaded at run time.
#pragma once

#include <cstdint>

namespace fo::dist {

// True between a successful init and finalize.
bool active();

// In-place MPI_Allreduce(MPI_SUM) over MPI_COMM_WORLD of n floats (split into calls of at most
// 2^30 elements). Serialised by a process-wide mutex, so it may run on a libuv worker thread
// when MPI provides MPI_THREAD_SERIALIZED or better. Throws std::runtime_error when MPI is not
// active or the call fails.
void allreduce_sum_f32(float* data, int64_t n);

// This process's rank and the world size (0 and 1 before init).
int rank();
int size();

// ZeRO-1 (CpuOptimizer's sharded step), all on MPI_COMM_WORLD, serialised like the above:
// recv = this rank's segment of the element-wise sum of every rank's `send` (MPI_Reduce_scatter,
// segments of counts[r] floats in rank order);
void reduce_scatter_sum_f32(const float* send, float* recv, const int* counts);
// every rank's segment [displs[r], displs[r] + counts[r]) of `buf` copied to every rank
// (MPI_Allgatherv in place);
void allgatherv_f32(float* buf, const int* counts, const int* displs);
// v[i] = the sum over ranks of v[i], added in rank order 0, 1, ... on every rank (an
// MPI_Allgather of the n values, then a fixed-order fold): the same bits everywhere.
void sum_in_rank_order_f64(double* v, int n);

}  // namespace fo::dist
