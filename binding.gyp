# node-gyp build of the CPU backend (no CUDA), from the same source list as CMakeLists.txt
# (native/sources.txt). `npx node-gyp rebuild`. cmake-js is the main build.
{
  "variables": {
    "fo_cflags": ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fvisibility=hidden", "-std=c++17"]
  },
  "targets": [
    {
      "target_name": "fo_kernels_avx2",
      "type": "static_library",
      "sources": ["<!@(node native/sources.cjs avx2)"],
      "cflags_cc": ["<@(fo_cflags)", "-mavx2", "-mfma", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"]
    },
    {
      "target_name": "fo_kernels_avx512",
      "type": "static_library",
      "sources": ["<!@(node native/sources.cjs avx512)"],
      "cflags_cc": ["<@(fo_cflags)", "-mavx512f", "-mavx512vl", "-mavx512dq", "-mavx512bw", "-mavx2", "-mfma", "-mprefer-vector-width=512", "-fPIC"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"]
    },
    {
      "target_name": "fused_optim",
      "sources": ["<!@(node native/sources.cjs)", "<!@(node native/sources.cjs nocuda)"],
      "dependencies": ["fo_kernels_avx2", "fo_kernels_avx512"],
      "libraries": ["-ldl"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "FO_VERSION=\"<!(node -p \"require('./package.json').version\")\""
      ],
      "cflags_cc": ["<@(fo_cflags)"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags!": ["-fno-exceptions"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["<@(fo_cflags)"]
      }
    }
  ]
}
