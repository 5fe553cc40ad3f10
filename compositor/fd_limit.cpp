#include "fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace syncway {

Result<FdLimit> raise_fd_limit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return make_error(errno, std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
    FdLimit result{limit.rlim_cur, limit.rlim_cur, limit.rlim_max};
    if (limit.rlim_cur == limit.rlim_max)
        return result;
    rlimit raised{limit.rlim_max, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) != 0)
        return make_error(errno, "cannot raise the RLIMIT_NOFILE soft limit from " + std::to_string(limit.rlim_cur) +
                                     " to the hard limit " + std::to_string(limit.rlim_max) + ": " +
                                     std::strerror(errno));
    result.soft = limit.rlim_max;
    return result;
}

uint64_t current_fd_limit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    return limit.rlim_cur;
}

} // namespace syncway
