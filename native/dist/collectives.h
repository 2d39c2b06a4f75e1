// The collectives the CPU engine and the addon call (no Node-API here: cpu/engine.cc includes
// it). Implemented in mpi.cc over the libmpi loaded at run time.
//
// Channels. Every distributed optimizer talks over a channel of its own: a duplicate of
// MPI_COMM_WORLD made when it is built (collectively, in the same order on every rank), so
// that the collectives of two optimizers, or of an optimizer and the user's comm.allreduce(),
// never match each other.
//
// Rendezvous. Each collective operation of an optimizer (a step, a state sync, a barrier)
// starts with a header: a small nonblocking all-reduce, polled against the communicator's
// timeout, in which each rank says what it is doing (the operation, its iteration) or that it
// is leaving (its optimizer was disposed, or the communicator closed). So:
//   - a rank that disposes its optimizer early posts a "leaving" header that the others' next
//     header matches: every rank still using the optimizer gets a RankLeft error, and the
//     channel ends (no further collective is attempted on it);
//   - ranks that disagree on the operation or the iteration all get a Mismatch error;
//   - a rank that never arrives turns into a Timeout error instead of a hang. After a timeout
//     MPI's state cannot be recovered (a collective can't be cancelled): every later
//     collective fails at once, MPI is not finalised, and the launcher ends the job when the
//     process exits.
// Once the header has passed, every rank is inside the same operation, so the bulk transfers
// (the gradient all-reduce, ZeRO-1's reduce-scatter and all-gather) use MPI's blocking
// collectives and their fastest algorithms.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace fo::dist {

// A failed collective. code() is the JavaScript error code:
//   ERR_FUSED_OPTIM_MPI_TIMEOUT, ERR_FUSED_OPTIM_RANK_LEFT, ERR_FUSED_OPTIM_MPI_MISMATCH,
//   ERR_FUSED_OPTIM_MPI (MPI failed, or it is not active).
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, const char* code) : std::runtime_error(what), code_(code) {}
  const char* code() const { return code_; }

 private:
  const char* code_;
};

// True between a successful init and finalize.
bool active();

// This process's rank and the world size (0 and 1 before init).
int rank();
int size();

// What a header announces.
enum class Op : int { Step = 1, Sync = 2, Barrier = 3, Setup = 4 };

// Makes a channel (MPI_Comm_idup of the world, waited with the timeout); returns its id.
int open_channel();
// The rendezvous: throws RankLeft (the channel ends), Mismatch or Timeout.
void header(int channel, Op op, double iteration);
// Posts this rank's "leaving" header and returns at once (a no-op once the channel ended or
// was left, or after finalize); the request completes when the other ranks' headers arrive,
// and is drained by drain() or finish().
void leave(int channel);
// Whether the channel ended because a rank left (RankLeft was raised on it).
bool ended(int channel);

// Bulk collectives on a channel, after its header (blocking; serialised by a process-wide
// mutex, so they may run on a libuv worker thread when MPI provides MPI_THREAD_SERIALIZED).
// In-place MPI_Allreduce(MPI_SUM) of n floats (calls of at most 2^30 elements).
void allreduce_sum_f32(int channel, float* data, int64_t n);
// recv = this rank's segment of the element-wise sum of every rank's `send`
// (MPI_Reduce_scatter, segments of counts[r] floats in rank order).
void reduce_scatter_sum_f32(int channel, const float* send, float* recv, const int* counts);
// Every rank's segment [displs[r], displs[r] + counts[r]) of `buf` copied to every rank
// (MPI_Allgatherv in place).
void allgatherv_f32(int channel, float* buf, const int* counts, const int* displs);
// v[i] = the sum over ranks of v[i], added in rank order 0, 1, ... on every rank (an
// MPI_Allgather of the n values, then a fixed-order fold): the same bits everywhere.
void sum_in_rank_order_f64(int channel, double* v, int n);
// root's n floats copied to every rank (MPI_Bcast, calls of at most 2^30 elements).
void broadcast_f32(int channel, float* data, int64_t n, int root);

}  // namespace fo::dist
