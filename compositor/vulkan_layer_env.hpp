// The environment that gives COMMAND syncway's Vulkan layer (wsi/, VK_LAYER_SYNCWAY_explicit_sync)
// or keeps it away: the layer's manifest enables it only when SYNCWAY_VULKAN_LAYER=1.
#pragma once

#include <string>
#include <vector>

namespace syncway {

// "NAME=VALUE" entries for ChildProcess::spawn. Enabled: SYNCWAY_VULKAN_LAYER=1, and when this
// syncway runs from its build tree (the layer is not installed), XDG_DATA_DIRS with the build
// tree's manifest directory first, so the Vulkan loader finds it. Disabled:
// SYNCWAY_VULKAN_LAYER_DISABLE=1 (the manifest's disable switch, which also wins over an
// enable inherited from our own environment).
// `xdg_data_dirs`: our own XDG_DATA_DIRS.
std::vector<std::string> vulkan_layer_env(bool enabled, const std::string& xdg_data_dirs);

} // namespace syncway
