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
 * @module
 */
export { DEFAULT_TIMEOUT_MS, DistributedError, init, ncclInfo, type Communicator, type DistributedErrorCode, type InitOptions, type NcclInfo } from './mpi.js';
