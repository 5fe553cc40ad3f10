// The layer's messages, on stderr, filtered like the Vulkan loader's own: VK_LOADER_DEBUG
// (error, warn, info, debug, layer, all; comma-separated) decides what is shown, so a user who
// asks the loader why a layer did something sees our answer in the same place. Errors that
// make a Vulkan call fail are always shown.
#pragma once

namespace syncway::wsi {

enum class LogLevel { Error, Warn, Info, Debug };

bool log_enabled(LogLevel level);
[[gnu::format(printf, 2, 3)]] void log(LogLevel level, const char* format, ...);

} // namespace syncway::wsi
