#pragma once
// Rotary position embedding (RoFormer, Su et al. 2021): instead of adding a position vector to
// the input, each head's queries and keys are turned by an angle proportional to their position,
// pair of features by pair of features. The score q·k of a query at position m and a key at n
// then depends on m - n only, so attention sees distances rather than absolute places.
//
// Half-split layout (GPT-NeoX, LLaMA): feature i pairs with feature i + D/2; pair i turns at the
// frequency 10000^(-2i/D).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace lmforge {
namespace transformer {

/// cos and sin of the angles of `length` consecutive positions, [length, head_dim] each (each
/// pair's angle written at both of its features).
struct RotaryAngles {
  at::Tensor cos, sin;
};

/// The angles of positions first, first + 1, ..., first + length - 1 for heads of `head_dim`
/// (even) features, as float on `device`.
RotaryAngles rotary_angles(std::int64_t head_dim, std::int64_t first, std::int64_t length,
                           const c10::Device& device);

/// x [..., length, head_dim] (queries or keys), each row turned by its position's angles.
at::Tensor apply_rotary(const at::Tensor& x, const RotaryAngles& angles);

}  // namespace transformer
}  // namespace lmforge
