/* A stand-in libnccl.so.2 for test/distributed.nccl.test.ts on machines without NCCL or a GPU:
 * it exports the entry points native/dist/nccl.cc resolves, with NCCL's C signatures, so the
 * loading, nccl.uniqueId() and the unique id's trip over MPI can be checked. Nothing here
 * communicates: ncclCommInitRank and ncclAllReduce fail (a real run needs real NCCL). Built by
 * the test with `cc -shared -fPIC -o <dir>/libnccl.so.2 nccl-stub.c`.
 * FO_NCCL_STUB_FAIL_RANK=<r>: ncclGetUniqueId fails (ncclSystemError) in the process whose
 * OMPI_COMM_WORLD_RANK is r. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char internal[128]; } ncclUniqueId;
typedef struct ncclComm* ncclComm_t;
typedef int ncclResult_t;

ncclResult_t ncclGetVersion(int* version) { *version = 21903; return 0; }

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  const char* fail = getenv("FO_NCCL_STUB_FAIL_RANK");
  const char* rank = getenv("OMPI_COMM_WORLD_RANK");
  if (fail && rank && strcmp(fail, rank) == 0) return 2;
  for (int i = 0; i < 128; ++i) id->internal[i] = (char)(i * 37 + 11); /* every byte value class, high bit too */
  return 0;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  (void)nranks; (void)id; (void)rank; *comm = NULL; return 5; /* ncclInvalidUsage */
}
ncclResult_t ncclAllReduce(const void* s, void* r, size_t n, int t, int op, ncclComm_t c, void* st) {
  (void)s; (void)r; (void)n; (void)t; (void)op; (void)c; (void)st; return 5;
}
ncclResult_t ncclReduceScatter(void) { return 5; }
ncclResult_t ncclAllGather(void) { return 5; }
ncclResult_t ncclCommDestroy(ncclComm_t c) { (void)c; return 0; }
ncclResult_t ncclCommAbort(ncclComm_t c) { (void)c; return 0; }
ncclResult_t ncclCommGetAsyncError(ncclComm_t c, ncclResult_t* e) { (void)c; *e = 0; return 0; }
const char* ncclGetErrorString(ncclResult_t r) { return r == 2 ? "unhandled system error (stub)" : "stub error"; }
