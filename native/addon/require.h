// Cheap re-checks at the native boundary. The TypeScript layer validates first with full
// messages; these exist so that no call, however it is made, can reach memory it should not.
#pragma once

#include <napi.h>

#include <string>

#include "../core/rules/registry.h"
#include "../core/step_args.h"

namespace fo::addon {

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// A Float32Array argument, attached. Returns the typed array.
inline Napi::TypedArrayOf<float> require_f32(const Napi::CallbackInfo& info, size_t i,
                                             const char* name) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_type(info.Env(), std::string("Expected a Float32Array for ") + name);
  }
  auto a = v.As<Napi::TypedArrayOf<float>>();
  if (a.ElementLength() > 0 && a.Data() == nullptr) {
    throw_type(info.Env(), std::string("Expected an attached Float32Array for ") + name);
  }
  return a;
}

inline Napi::TypedArrayOf<double> require_f64(const Napi::CallbackInfo& info, size_t i,
                                              const char* name, size_t min_length) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw_type(info.Env(), std::string("Expected a Float64Array for ") + name);
  }
  auto a = v.As<Napi::TypedArrayOf<double>>();
  if (a.ElementLength() < min_length) {
    throw_range(info.Env(), std::string("Expected a Float64Array of length >= ") +
                                std::to_string(min_length) + " for " + name);
  }
  return a;
}

inline double require_number(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) throw_type(info.Env(), std::string("Expected a number for ") + name);
  return info[i].As<Napi::Number>().DoubleValue();
}

inline int64_t require_int(const Napi::CallbackInfo& info, size_t i, const char* name,
                           int64_t lo, int64_t hi) {
  double d = require_number(info, i, name);
  if (!(d >= static_cast<double>(lo) && d <= static_cast<double>(hi)) ||
      d != static_cast<double>(static_cast<int64_t>(d))) {
    throw_range(info.Env(), std::string("Expected an integer in [") + std::to_string(lo) + ", " +
                                std::to_string(hi) + "] for " + name);
  }
  return static_cast<int64_t>(d);
}

// A rule id argument: one of the registry's.
inline const RuleInfo* require_rule(const Napi::CallbackInfo& info, size_t i) {
  const int64_t id = require_int(info, i, "rule", 0, kRuleCount - 1);
  const RuleInfo* r = rule_info(static_cast<int32_t>(id));
  if (!r) throw_range(info.Env(), "Expected a known rule id but received " + std::to_string(id));
  return r;
}

// Doubles in the hyperparameter array of a step with `groups` groups.
inline size_t hp_length(int32_t groups) {
  return static_cast<size_t>(kHpHeader) + static_cast<size_t>(groups) * kHpGroupStride;
}

}  // namespace fo::addon
