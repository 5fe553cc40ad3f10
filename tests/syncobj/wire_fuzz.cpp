// libFuzzer target: every input is one request message, decoded on its own and also sent to a
// live embedded service over a real socket (with a valid timeline handle and an eventfd around
// so deeper paths are reachable). The service must answer or drop the connection, never crash,
// leak or misbehave (ASan/UBSan watch).
#include "service/fd_passing.hpp"
#include "service/service.hpp"
#include "service/wire_request.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
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

    Harness()
    {
        char tmpl[] = "/tmp/syncobj-fuzz-XXXXXX";
        dir = mkdtemp(tmpl);
        ServiceLimits limits;
        limits.max_handles_per_connection = 64;
        limits.max_waits_per_connection = 64;
        auto s = Service::listen_at(dir + "/f.sock", Service::Options{limits, {}});
        if (!s)
            abort();
        svc = std::move(s.value());
        connect_client();
    }
    ~Harness()
    {
        close(client);
        svc.reset();
        rmdir(dir.c_str());
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
    // Attach an eventfd to some inputs (the first byte decides) so fd-taking ops get one.
    int efd = (size > 0 && (data[size - 1] & 1)) ? eventfd(0, EFD_CLOEXEC) : -1;
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
    h.svc->dispatch(0);
    h.drain();
    return 0;
}
