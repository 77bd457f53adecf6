#pragma once
namespace lmforge {
class Registry;
void register_builtin_optimizers(Registry& reg);
void register_builtin_schedules(Registry& reg);
}  // namespace lmforge
