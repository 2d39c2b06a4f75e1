# The CUDA backend. Included by CMakeLists.txt (at file scope) when nvcc was found and
# FUSED_OPTIM_CUDA is not OFF; CMakeLists.txt then calls fo_configure_cuda(<addon target>).
#
# note: architectures are explicit, never "native" or "all": the build machines have no GPU,
# and every architecture costs compile time (CI compiles on 2 cores).
#   80-real    A100 / A10 / A30 / RTX 30xx-40xx (sm_86/sm_89 run sm_80 code)
#   90-real    H100 / H200 (the benchmark targets)
#   90-virtual PTX of compute_90, JIT-compiled by the driver on newer GPUs (Blackwell sm_100,
#              sm_120): the first launch there pays a one-off JIT of a few kernels.
# Older GPUs (sm_75 and below) are not supported: probe() lists them and says so.
# Override with -DFUSED_OPTIM_CUDA_ARCHITECTURES="..." (e.g. "90-real" for a quicker build).
set(FUSED_OPTIM_CUDA_ARCHITECTURES "80-real;90-real;90-virtual" CACHE STRING
    "CUDA architectures of the fused-optim CUDA backend")
if(NOT CMAKE_CUDA_ARCHITECTURES)
  # Set before enable_language so that CMake does not probe a GPU to pick a default.
  set(CMAKE_CUDA_ARCHITECTURES "${FUSED_OPTIM_CUDA_ARCHITECTURES}")
endif()
enable_language(CUDA)
# note: no find_package(CUDAToolkit): it looks for every toolkit library (cuBLAS, cuFFT...)
# and reports the ones missing, none of which this backend uses. The static runtime comes
# from the CUDA_RUNTIME_LIBRARY property below; the headers from the toolkit nvcc belongs to.
message(STATUS "fused-optim: building the CUDA backend (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
               "architectures ${FUSED_OPTIM_CUDA_ARCHITECTURES})")

function(fo_configure_cuda target)
  set(dir "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")
  file(GLOB cu_sources CONFIGURE_DEPENDS "${dir}/*.cu")
  file(GLOB cc_sources CONFIGURE_DEPENDS "${dir}/*.cc")
  target_sources(${target} PRIVATE ${cu_sources} ${cc_sources})
  target_compile_definitions(${target} PRIVATE FO_WITH_CUDA=1)
  set_target_properties(${target} PROPERTIES
    CUDA_ARCHITECTURES "${FUSED_OPTIM_CUDA_ARCHITECTURES}"
    CUDA_STANDARD 17
    CUDA_STANDARD_REQUIRED ON
    CUDA_SEPARABLE_COMPILATION OFF
    CUDA_VISIBILITY_PRESET hidden
    # The runtime is linked statically: the addon loads on a machine without a GPU or driver
    # (libcuda.so is opened at run time by the runtime), and probe() reports why CUDA is off.
    CUDA_RUNTIME_LIBRARY Static)
  # note: --fmad=false keeps nvcc from contracting a*b+c into an FMA, like -ffp-contract=off
  # on the host: the update rules of native/core/rules/*.h then give the same bits on the GPU as
  # on the CPU. IEEE division and square root (the defaults, -prec-div/-prec-sqrt=true) are
  # part of the same promise. -Xptxas -v would print register use; kept off to keep logs short.
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false -O3 -Xcompiler=-fno-math-errno>)
  # the host sources (optimizer.cc) include cuda_runtime.h
  target_include_directories(${target} PRIVATE ${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES})
endfunction()
