// Builds one JSON object on one line, for the recording's trace (docs/recording.md). Only what
// the trace needs: strings (escaped), integers, booleans, null, and nested objects/arrays
// opened and closed in order. No allocation beyond the line's string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace syncway::record {

class JsonLine {
public:
    JsonLine() { text_ = "{"; }

    JsonLine& key(std::string_view name)
    {
        comma();
        string(name);
        text_ += ':';
        after_key_ = true;
        return *this;
    }
    JsonLine& value(std::string_view s) { comma(); string(s); return *this; }
    JsonLine& value(const char* s) { return s ? value(std::string_view(s)) : null(); }
    JsonLine& value(int64_t n) { comma(); text_ += std::to_string(n); return *this; }
    JsonLine& value(uint64_t n) { comma(); text_ += std::to_string(n); return *this; }
    JsonLine& value(int n) { return value(int64_t(n)); }
    JsonLine& value(uint32_t n) { return value(uint64_t(n)); }
    JsonLine& value(bool b) { comma(); text_ += b ? "true" : "false"; return *this; }
    JsonLine& null() { comma(); text_ += "null"; return *this; }
    // A time in ns, or null when it never happened (0).
    JsonLine& time(int64_t ns) { return ns ? value(ns) : null(); }

    template <typename T> JsonLine& field(std::string_view name, T v) { return key(name).value(v); }

    JsonLine& begin_object() { comma(); text_ += '{'; first_ = true; return *this; }
    JsonLine& end_object() { text_ += '}'; first_ = false; return *this; }
    JsonLine& begin_array() { comma(); text_ += '['; first_ = true; return *this; }
    JsonLine& end_array() { text_ += ']'; first_ = false; return *this; }

    // The finished line, with its newline.
    std::string finish()
    {
        text_ += "}\n";
        return std::move(text_);
    }

private:
    void comma()
    {
        if (after_key_) {
            after_key_ = false;
            return;
        }
        if (!first_)
            text_ += ',';
        first_ = false;
    }
    void string(std::string_view s)
    {
        static constexpr char hex[] = "0123456789abcdef";
        text_ += '"';
        for (unsigned char c : s) {
            if (c == '"' || c == '\\') {
                text_ += '\\';
                text_ += char(c);
            } else if (c < 0x20 || c == 0x7f) {
                text_ += "\\u00";
                text_ += hex[c >> 4];
                text_ += hex[c & 15];
            } else {
                text_ += char(c);  // UTF-8 passes through; invalid bytes are the checker's problem
            }
        }
        text_ += '"';
    }

    std::string text_;
    bool first_ = true;
    bool after_key_ = false;
};

// A fast 64-bit fingerprint of pixel memory (not cryptographic): the trace compares a buffer's
// content when its state was applied with its content when it was released.
inline uint64_t content_hash(const uint8_t* data, size_t stride, size_t row_bytes, int height)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int y = 0; y < height; ++y) {
        const uint8_t* row = data + size_t(y) * stride;
        size_t i = 0;
        for (; i + 8 <= row_bytes; i += 8) {
            uint64_t v;
            __builtin_memcpy(&v, row + i, 8);
            h = (h ^ v) * 0x100000001b3ull;
            h ^= h >> 29;
        }
        for (; i < row_bytes; ++i)
            h = (h ^ row[i]) * 0x100000001b3ull;
    }
    return h;
}

} // namespace syncway::record
