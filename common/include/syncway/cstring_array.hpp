// A NULL-terminated char* array (argv, envp for exec/posix_spawn) that owns its strings.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace syncway {

class CStringArray {
public:
    explicit CStringArray(std::vector<std::string> strings) : strings_(std::move(strings))
    {
        pointers_.reserve(strings_.size() + 1);
        for (auto& s : strings_)
            pointers_.push_back(s.data());
        pointers_.push_back(nullptr);
    }
    // The pointers point into strings_: copying or moving would leave them dangling.
    CStringArray(const CStringArray&) = delete;
    CStringArray& operator=(const CStringArray&) = delete;

    char* const* data() const { return pointers_.data(); }
    char** data() { return pointers_.data(); }
    bool empty() const { return strings_.empty(); }

private:
    std::vector<std::string> strings_;
    std::vector<char*> pointers_;
};

} // namespace syncway
