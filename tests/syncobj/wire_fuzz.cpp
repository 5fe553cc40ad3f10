// libFuzzer target: every input is one request message, decoded on its own and also sent to a
// live embedded service over a real socket (with a valid timeline handle, and one fd of several
// kinds attached to most inputs: an eventfd, either end of a pipe, the timeline's own fd, a named
// FIFO, a foreign socket carrying a forged sync status; so the paths that take fds and must
// refuse the wrong ones are reachable). The service must answer or drop the connection, never crash,
// leak or misbehave (ASan/UBSan watch).
#include "service/fd_passing.hpp"
#include "service/service.hpp"
#include "service/wire_request.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

using namespace syncway::syncobj;

namespace {

struct Harness {
    std::string dir;
    std::unique_ptr<Service> svc;
    int client = -1;
    int timeline = -1; // the client end of handle 1

    Harness()
    {
        char tmpl[] = "/tmp/syncobj-fuzz-XXXXXX";
        dir = mkdtemp(tmpl);
        ServiceLimits limits;
        limits.max_handles_per_connection = 64;
        limits.max_waits_per_connection = 64;
        limits.max_fds_per_connection = 96;
        limits.max_pending_points_per_timeline = 64;
        auto s = Service::listen_at(dir + "/f.sock", Service::Options{limits, {}});
        if (!s)
            abort();
        svc = std::move(s.value());
        mkfifo((dir + "/fifo").c_str(), 0600);
        connect_client();
    }
    ~Harness()
    {
        close(client);
        close(timeline);
        svc.reset();
        unlink((dir + "/fifo").c_str());
        rmdir(dir.c_str());
    }
    // The fd the input's last byte asks for (or -1), and a second one to close after sending.
    int make_fd(uint8_t selector, int& also)
    {
        also = -1;
        int p[2], sp[2];
        switch (selector & 7) {
        case 2:
            return eventfd(0, EFD_CLOEXEC);
        case 3:
        case 4:
            if (pipe2(p, O_CLOEXEC) != 0)
                return -1;
            also = p[selector & 1 ? 0 : 1];
            return p[selector & 1 ? 1 : 0];
        case 5:
            return timeline >= 0 ? fcntl(timeline, F_DUPFD_CLOEXEC, 0) : -1;
        case 6:
            return open((dir + "/fifo").c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        case 7: {
            if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) != 0)
                return -1;
            syncobj_wire_sync_status forged{SYNCOBJ_WIRE_SYNC_MAGIC, 0};
            send(sp[1], &forged, sizeof forged, MSG_NOSIGNAL);
            also = sp[1];
            return sp[0];
        }
        default:
            return -1;
        }
    }
    void connect_client()
    {
        if (client >= 0)
            close(client);
        client = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, (dir + "/f.sock").c_str(), sizeof addr.sun_path - 1);
        if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            abort();
        svc->dispatch(0);
        // Handle 1: a timeline, so requests naming it reach the deeper code.
        syncobj_wire_create create{{SYNCOBJ_OP_CREATE, 0}, 0};
        send(client, &create, sizeof create, 0);
        svc->dispatch(0);
        ReceiveBuffer<SYNCOBJ_WIRE_MAX_MESSAGE, 4> rb;
        if (recvmsg(client, &rb.msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) > 0) {
            auto fds = take_fds(rb.msg);
            if (!fds.empty()) {
                if (timeline >= 0)
                    close(timeline);
                timeline = fds[0].release();
            }
        }
        drain();
    }
    void drain()
    {
        for (;;) {
            ReceiveBuffer<SYNCOBJ_WIRE_MAX_MESSAGE, 4> rb;
            msghdr& msg = rb.msg;
            ssize_t n = recvmsg(client, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
            if (n <= 0) {
                if (n == 0)
                    connect_client(); // the service hung up on us: start again
                return;
            }
            take_fds(msg); // closes whatever the reply carried
        }
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Harness h;
    auto req = decode_request(data, size);
    if (req.ok() && req->handles.size() > SYNCOBJ_WIRE_MAX_COUNT)
        abort(); // the decoder must never accept more than the limit
    // Attach an fd to most inputs (the last byte picks its kind) so fd-taking ops get one.
    int also = -1;
    int efd = size > 0 ? h.make_fd(data[size - 1], also) : -1;
    iovec iov{const_cast<uint8_t*>(data), size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    OneFdControl control;
    if (efd >= 0)
        attach_fd(msg, control, efd);
    if (size > 0 && sendmsg(h.client, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        h.connect_client();
    if (efd >= 0)
        close(efd);
    if (also >= 0)
        close(also);
    h.svc->dispatch(0);
    h.drain();
    return 0;
}
