/**
 * `fused-optim/distributed`: data-parallel steps over MPI (docs/design.md, "Distributed").
 *
 * ```js
 * import { init } from 'fused-optim/distributed';
 * import { AdamW } from 'fused-optim';
 * const comm = init(); // under `mpirun -np N node train.mjs`
 * const opt = new AdamW(lengths, { lr: 1e-3, comm });
 * // each rank writes its own gradient into opt.grads, then:
 * opt.step(); // averages the gradient over all ranks (one MPI_Allreduce), then steps
 * comm.close();
 * ```
 *
 * A CUDA arena (`device: 'cuda:<local rank>'`, one GPU per rank) all-reduces with NCCL on the
 * device instead (libnccl.so.2, loaded at run time; {@link ncclInfo}); the NCCL communicator is
 * bootstrapped over MPI at construction.
 *
 * libmpi is loaded at run time (dlopen of libmpi.so.40, libmpi.so.12, libmpi.so), so the
 * package builds and runs single-process without MPI. Only Open MPI is supported yet.
 *
 * Construction gives every rank rank 0's parameters (`broadcastParams`). Misuse is a typed
 * {@link DistributedError} on every rank rather than a hang: a rank that disposed the optimizer
 * early (`ERR_FUSED_OPTIM_RANK_LEFT`), ranks in different calls or iterations
 * (`ERR_FUSED_OPTIM_MPI_MISMATCH`), a rank that does not arrive within `timeoutMs`
 * (`ERR_FUSED_OPTIM_MPI_TIMEOUT`). CUDA arenas all-reduce with NCCL when `libnccl.so.2` loads
 * ({@link ncclInfo}).
 *
 * @module
 */
export { DEFAULT_TIMEOUT_MS, DistributedError, init, ncclInfo, type Communicator, type DistributedErrorCode, type InitOptions, type NcclInfo } from './mpi.js';
