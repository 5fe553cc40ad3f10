#include "log.hpp"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace syncway::wsi {

namespace {

// The most verbose level VK_LOADER_DEBUG asks for; read once (the environment is the loader's
// interface for this, and it does not change while a process runs Vulkan).
LogLevel threshold_from_env()
{
    const char* env = std::getenv("VK_LOADER_DEBUG");
    LogLevel level = LogLevel::Error;
    if (!env)
        return level;
    std::string_view rest(env);
    while (!rest.empty()) {
        size_t comma = rest.find(',');
        std::string_view word = rest.substr(0, comma);
        if (word == "all" || word == "debug")
            level = LogLevel::Debug;
        else if ((word == "info" || word == "layer") && level < LogLevel::Info)
            level = LogLevel::Info;
        else if ((word == "warn" || word == "warning") && level < LogLevel::Warn)
            level = LogLevel::Warn;
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    return level;
}

const char* name(LogLevel level)
{
    switch (level) {
    case LogLevel::Error: return "ERROR";
    case LogLevel::Warn: return "WARNING";
    case LogLevel::Info: return "INFO";
    case LogLevel::Debug: return "DEBUG";
    }
    return "";
}

} // namespace

bool log_enabled(LogLevel level)
{
    static const LogLevel threshold = threshold_from_env();
    return level <= threshold;
}

void log(LogLevel level, const char* format, ...)
{
    if (!log_enabled(level))
        return;
    char message[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(message, sizeof message, format, args);
    va_end(args);
    // One write per message, so lines of several threads do not interleave.
    std::fprintf(stderr, "%s: VK_LAYER_SYNCWAY_explicit_sync: %s\n", name(level), message);
}

} // namespace syncway::wsi
