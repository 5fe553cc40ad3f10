#include "service_state.hpp"

namespace syncway::syncobj {

// ---- connections ---------------------------------------------------------------------------

void Connection::close_connection(const std::string& why)
{
    if (!why.empty())
        s.log("connection of pid " + std::to_string(pid) + " closed: " + why);
    for (auto& [wid, group] : waits)
        s.dead_groups.push_back(std::move(group));
    waits.clear();
    // Its eventfd registrations go too: the kernel keeps them with the syncobj, but here
    // nothing would bound what a client leaves behind by connecting again and again.
    for (uint64_t key : eventfd_keys) {
        auto it = s.eventfd_waits.find(key);
        if (it == s.eventfd_waits.end())
            continue;
        it->second->cancel();
        it->second->charge.release();
        s.dead_waiters.push_back(std::move(it->second));
        s.eventfd_waits.erase(it);
    }
    eventfd_keys.clear();
    if (auto it = s.connections_by_pid.find(pid); it != s.connections_by_pid.end() && --it->second == 0)
        s.connections_by_pid.erase(it);
    s.retire(s.connections, id, sock.get());
}

void Connection::ready(uint32_t events)
{
    if (events & EPOLLIN) {
        ReceiveBatch* batch = s.receive_batch.get();
        for (int taken = 0; taken < kMessagesPerWakeup;) {
            int n = recvmmsg(sock.get(), batch->hdrs, kMessagesPerReceive, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, nullptr);
            if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    close_connection(std::string("receive failed: ") + errno_text(errno));
                return;
            }
            bool open = true;
            for (int i = 0; i < n; i++) {
                msghdr& m = batch->hdrs[i].msg_hdr;
                std::vector<UniqueFd> fds = take_fds(m); // owned even if no longer answered
                if (open)
                    open = handle_message(batch->bufs[i].data, batch->hdrs[i].msg_len, m.msg_flags, fds);
            }
            batch->rearm(static_cast<unsigned>(n));
            // A short batch means the socket was empty when the kernel looked; the
            // level-triggered epoll reports anything that arrived since.
            if (!open || n < static_cast<int>(kMessagesPerReceive))
                return;
            taken += n;
        }
        return;
    }
    if (events & (EPOLLHUP | EPOLLERR))
        close_connection("");
}

// MSG_CTRUNC: the fds did not all arrive. Either the request carried more than the service
// takes (the buffer filled up), or the kernel could not install one in this process (its fd
// table is full: EMFILE; a security module refused it).
Reply Connection::truncated_fds_reply(size_t received)
{
    if (received >= kMaxFdsPerMessage)
        return Reply::fail(EINVAL, "more than " + std::to_string(kMaxFdsPerMessage) + " fds in one request");
    // Find out why by asking for one fd now.
    UniqueFd probe(fcntl(sock.get(), F_DUPFD_CLOEXEC, 0));
    int e = probe ? 0 : errno;
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (e == EMFILE || e == ENFILE || e == ENOMEM)
        return Reply::fail(e == ENOMEM ? EMFILE : e,
                           std::string("the service could not receive the request's fds: it is out of file "
                                       "descriptors (") + (e == ENFILE ? "ENFILE: the system's file table is full"
                                       : "EMFILE: RLIMIT_NOFILE " + std::to_string(rl.rlim_cur)) +
                               ")");
    return Reply::fail(EPERM, "the service could not receive the request's fds (" + std::to_string(received) +
                                  " arrived; the kernel refused the others, e.g. a security module)");
}

bool Connection::handle_message(const uint8_t* buf, size_t n, int msg_flags, std::vector<UniqueFd>& fds)
{
    if (n == 0) {
        close_connection("");
        return false;
    }
    uint16_t op = 0;
    if (static_cast<size_t>(n) >= sizeof op)
        std::memcpy(&op, buf, sizeof op);
    Reply reply;
    if (msg_flags & MSG_TRUNC)
        reply = Reply::fail(EINVAL, "request longer than " + std::to_string(SYNCOBJ_WIRE_MAX_MESSAGE) + " bytes");
    else if (msg_flags & MSG_CTRUNC)
        reply = truncated_fds_reply(fds.size());
    else {
        auto req = decode_request(buf, n);
        if (!req)
            reply = Reply::fail(req.error());
        else if (fds.size() < req->fds_expected)
            reply = Reply::fail(EBADF, "request op " + std::to_string(op) + " needs an fd and none came");
        else if (fds.size() > req->fds_expected)
            reply = Reply::fail(EINVAL, "request op " + std::to_string(op) + " carries unexpected fds");
        else
            reply = handle(*req, fds);
    }
    // Expected outcomes (ETIME of a poll) are not protocol errors worth an operator's time.
    if (reply.error && reply.error != ETIME && s.opt.log)
        s.log("pid " + std::to_string(pid) + ": request op " + std::to_string(op) + " failed: " + reply.message);
    if (!op_has_reply(op))
        return true;
    return send_reply(op, reply);
}

bool Connection::send_reply(uint16_t op, Reply& r)
{
    syncobj_wire_reply head{};
    head.error = r.error;
    head.aux = r.aux;
    head.value = r.value;
    uint8_t buf[SYNCOBJ_WIRE_MAX_MESSAGE];
    size_t len = sizeof head;
    std::memcpy(buf, &head, sizeof head);
    if (r.error) {
        std::string text = r.message.substr(0, SYNCOBJ_WIRE_MAX_ERROR_TEXT - 1);
        std::memcpy(buf + len, text.c_str(), text.size() + 1);
        len += text.size() + 1;
    } else if (!r.payload.empty()) {
        std::memcpy(buf + len, r.payload.data(), r.payload.size() * sizeof(uint64_t));
        len += r.payload.size() * sizeof(uint64_t);
    }
    iovec iov{buf, len};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    OneFdControl control;
    if (r.fd)
        attach_fd(msg, control, r.fd.get());
    if (sendmsg(sock.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        // A client that does not read its replies would make us buffer without bound.
        close_connection("cannot send a reply to op " + std::to_string(op) + ": " + errno_text(errno));
        return false;
    }
    return true;
}

Result<uint32_t> Connection::new_handle(uint64_t object_id, std::shared_ptr<TimelineObject> timeline)
{
    if (handles.size() >= s.opt.limits.max_handles_per_connection) {
        handles.erase_if([this](TimelineState* hot, const HandleRef& ref) {
            return hot ? hot->retired : s.signalers.count(ref.id) == 0;
        });
        if (handles.size() >= s.opt.limits.max_handles_per_connection)
            return make_error(ENOSPC, "this connection already holds " + std::to_string(handles.size()) +
                                          " handles (limit " +
                                          std::to_string(s.opt.limits.max_handles_per_connection) + ")");
    }
    TimelineState* hot = timeline ? &timeline->hot : nullptr;
    uint32_t h = handles.insert(hot, HandleRef{object_id, std::move(timeline)});
    if (h == 0)
        return make_error(ENOSPC, "this connection's handle table is full (" +
                                      std::to_string(decltype(handles)::kCapacity) + " handles)");
    return h;
}

core::Timeline* Connection::timeline(uint32_t handle)
{
    TimelineState** hot = handles.find(handle);
    if (!hot || !*hot || (*hot)->retired)
        return nullptr;
    return &(*hot)->timeline;
}

Status Connection::timelines(const std::vector<uint32_t>& hs)
{
    // A batch names up to 256 timelines scattered over memory: resolve each level for all of
    // them before the next (handle slot; timeline state; the chain, which an idle timeline
    // does not have), so the cache misses of independent entries overlap instead of
    // following one another.
    for (uint32_t h : hs)
        handles.prefetch(h);
    batch_states.resize(hs.size());
    for (size_t i = 0; i < hs.size(); i++) {
        TimelineState** hot = handles.find(hs[i]);
        if (!hot || !*hot)
            return make_error(ENOENT, "no timeline with handle " + std::to_string(hs[i]));
        batch_states[i] = *hot;
        __builtin_prefetch(*hot);
    }
    batch.resize(hs.size());
    for (size_t i = 0; i < hs.size(); i++) {
        if (batch_states[i]->retired)
            return make_error(ENOENT, "the timeline of handle " + std::to_string(hs[i]) +
                                          " is gone (every fd of it was closed)");
        batch[i] = &batch_states[i]->timeline;
        batch[i]->prefetch();
    }
    return Ok{};
}

Status Connection::check_budget(uint32_t fds, uint32_t new_waits)
{
    const ServiceLimits& lim = s.opt.limits;
    if (new_waits && waits_held + new_waits > lim.max_waits_per_connection)
        return make_error(ENOSPC, "this connection already has " + std::to_string(waits_held) +
                                      " pending waits (limit max_waits_per_connection = " +
                                      std::to_string(lim.max_waits_per_connection) + ")");
    if (fds_held + fds > lim.max_fds_per_connection)
        return make_error(EMFILE, "this connection's objects already hold " + std::to_string(fds_held) +
                                      " service fds (limit max_fds_per_connection = " +
                                      std::to_string(lim.max_fds_per_connection) + ")");
    if (s.fds_held + fds > lim.max_fds)
        return make_error(ENFILE, "the service already holds " + std::to_string(s.fds_held) +
                                      " fds for its clients (limit max_fds = " + std::to_string(lim.max_fds) + ")");
    return Ok{};
}

Status Connection::check_points_budget(size_t n)
{
    uint32_t limit = s.opt.limits.max_pending_points_per_connection;
    if (points->used() + n > limit)
        return make_error(ENOSPC, "this connection already has " + std::to_string(points->used()) +
                                      " pending points on its timelines (limit max_pending_points_per_connection = " +
                                      std::to_string(limit) + ")");
    return Ok{};
}

Status Connection::check_pending_points(const core::Timeline& t, uint32_t handle)
{
    size_t n = t.pending_entries();
    if (n >= s.opt.limits.max_pending_points_per_timeline)
        return make_error(ENOSPC, "the timeline of handle " + std::to_string(handle) + " already has " +
                                      std::to_string(n) + " pending points and fences (limit " +
                                      "max_pending_points_per_timeline = " +
                                      std::to_string(s.opt.limits.max_pending_points_per_timeline) + ")");
    return Ok{};
}

Reply Connection::handle(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    switch (req.op) {
    case SYNCOBJ_OP_HELLO: {
        Reply r;
        r.value = SYNCOBJ_WIRE_VERSION;
        return r;
    }
    case SYNCOBJ_OP_CREATE:
        return op_create(req);
    case SYNCOBJ_OP_IMPORT:
        return op_import(fds);
    case SYNCOBJ_OP_CLOSE_HANDLE:
        handles.erase(req.handle);
        return {};
    case SYNCOBJ_OP_SUBMIT:
        return op_submit(req, fds);
    case SYNCOBJ_OP_SIGNALER_SIGNAL:
        op_signaler_signal(req);
        return {};
    case SYNCOBJ_OP_SIGNAL:
        return op_signal(req);
    case SYNCOBJ_OP_RESET:
        return op_reset(req);
    case SYNCOBJ_OP_QUERY:
        return op_query(req);
    case SYNCOBJ_OP_WAIT:
        return op_wait(req, fds);
    case SYNCOBJ_OP_CANCEL_WAIT: {
        auto it = waits.find(req.wait_id);
        if (it != waits.end()) {
            s.dead_groups.push_back(std::move(it->second));
            waits.erase(it);
        }
        return {};
    }
    case SYNCOBJ_OP_EVENTFD:
        return op_eventfd(req, fds);
    case SYNCOBJ_OP_TRANSFER:
        return op_transfer(req);
    case SYNCOBJ_OP_EXPORT_SYNC_FILE:
        return op_export(req);
    case SYNCOBJ_OP_IMPORT_SYNC_FILE:
        return op_import_sync_file(req, fds);
    case SYNCOBJ_OP_POINT_STATE:
        return op_point_state(req);
    default:
        return Reply::fail(EINVAL, "unknown request op " + std::to_string(req.op));
    }
}


Reply Connection::op_create(const WireRequest& req)
{
    if (req.flags & ~1u)
        return Reply::fail(EINVAL, "unknown create flags 0x" + std::to_string(req.flags));
    if (auto st = check_budget(1, 0); !st)
        return Reply::fail(st.error());
    UniqueFd client_end;
    auto t = s.new_timeline(req.flags & 1u, client_end, id);
    if (!t)
        return Reply::fail(t.error());
    auto h = new_handle(t.value()->id, t.value());
    if (!h) {
        s.retire_timeline(*t.value());
        return Reply::fail(h.error());
    }
    Reply r;
    r.aux = h.value();
    r.fd = std::move(client_end);
    return r;
}

Reply Connection::op_import(std::vector<UniqueFd>& fds)
{
    int fd = fds[0].get();
    FdInfo info = inspect_fd(fd, s.registry.pipefs_dev());
    uint64_t cookie = info.kind == FdKind::SeqpacketSocket ? socket_cookie(fd) : 0;
    const ObjectRegistry::Entry* e = s.registry.match(info, cookie);
    if (!e)
        return Reply::fail(EINVAL, describe_fd(fd, info) + " is not a timeline or signaler of this service");
    bool is_timeline = e->kind == ObjectRegistry::Kind::Timeline;
    std::shared_ptr<TimelineObject> timeline;
    if (is_timeline) {
        auto tl = s.timelines.find(e->id);
        if (tl == s.timelines.end())
            return Reply::fail(EINVAL, describe_fd(fd, info) + " is not a live timeline of this service");
        timeline = tl->second;
    }
    auto h = new_handle(e->id, std::move(timeline));
    if (!h)
        return Reply::fail(h.error());
    Reply r;
    r.aux = h.value();
    r.value = is_timeline ? SYNCOBJ_KIND_TIMELINE : SYNCOBJ_KIND_SIGNALER;
    return r;
}

Reply Connection::op_submit(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    core::Timeline* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    // The client made the pipe and keeps its write end: signaling is then one write() of its
    // own, with no message to parse here.
    FdInfo info = inspect_fd(fds[0].get(), s.registry.pipefs_dev());
    if (info.kind != FdKind::PipeReadEnd)
        return Reply::fail(EINVAL, "SUBMIT needs the read end of a pipe, not " + describe_fd(fds[0].get(), info));
    if (s.registry.contains(info.id))
        return Reply::fail(EINVAL, "SUBMIT needs a new pipe: this one is already a signaler");
    if (auto st = check_pending_points(*t, req.handle); !st)
        return Reply::fail(st.error());
    if (auto st = check_points_budget(1); !st)
        return Reply::fail(st.error());
    if (auto st = check_budget(1, 0); !st)
        return Reply::fail(st.error());
    int fl = fcntl(fds[0].get(), F_GETFL);
    if (fl < 0 || fcntl(fds[0].get(), F_SETFL, fl | O_NONBLOCK) != 0)
        return Reply::fail(errno, std::string("cannot make the signaler pipe non-blocking: ") + errno_text(errno));
    auto sig = std::make_unique<SignalerObject>(s);
    sig->end = std::move(fds[0]);
    sig->file = info.id;
    sig->fence = std::make_shared<core::Fence>();
    auto st = s.register_source(sig->end.get(), EPOLLIN, sig.get(), sig->id);
    if (!st)
        return Reply::fail(st.error());
    auto h = new_handle(sig->id);
    if (!h) {
        s.poller.remove(sig->end.get(), sig->id);
        return Reply::fail(h.error());
    }
    s.registry.add(sig->file, {ObjectRegistry::Kind::Signaler, sig->id, 0});
    sig->charge.bind(s, id, 1, 0);
    core::FenceRef fence = sig->fence;
    s.signalers[sig->id] = std::move(sig);
    t->add(req.point, std::move(fence), point_token());
    Reply r;
    r.aux = h.value();
    return r;
}

void Connection::op_signaler_signal(const WireRequest& req)
{
    if (!handles.find(req.handle))
        return;
    auto sig = s.signalers.find(handles.cold(req.handle).id);
    handles.erase(req.handle);
    if (sig == s.signalers.end())
        return; // every copy closed: nothing to do
    sig->second->signal();
}

Reply Connection::op_signal(const WireRequest& req)
{
    if (req.flags)
        return Reply::fail(EINVAL, "signal flags must be 0");
    if (auto st = timelines(req.handles); !st)
        return Reply::fail(st.error());
    // Checked for every entry before any is applied. A point behind a pending one is a node
    // of its own until that one signals, so signals count as pending points too.
    for (size_t i = 0; i < batch.size(); i++)
        if (auto st = check_pending_points(*batch[i], req.handles[i]); !st)
            return Reply::fail(st.error());
    // A signal on an idle timeline keeps nothing (its head just moves): only busy ones count.
    size_t busy = 0;
    for (core::Timeline* t : batch)
        busy += t->has_chain_object();
    if (auto st = check_points_budget(busy); !st)
        return Reply::fail(st.error());
    // A waiter woken here may retire an object; its core timeline lives until collect().
    for (size_t i = 0; i < batch.size(); i++)
        batch[i]->signal(req.points[i], batch[i]->has_chain_object() ? point_token() : core::PointBudget::Token{});
    return {};
}

Reply Connection::op_reset(const WireRequest& req)
{
    if (req.flags)
        return Reply::fail(EINVAL, "reset flags must be 0");
    if (auto st = timelines(req.handles); !st)
        return Reply::fail(st.error());
    for (core::Timeline* t : batch)
        t->reset();
    return {};
}

Reply Connection::op_query(const WireRequest& req)
{
    if (req.flags & ~1u)
        return Reply::fail(EINVAL, "unknown query flags");
    if (auto st = timelines(req.handles); !st)
        return Reply::fail(st.error());
    Reply r;
    for (core::Timeline* t : batch)
        r.payload.push_back(t->query(req.flags & 1u));
    return r;
}

Reply Connection::op_wait(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    constexpr uint32_t known = core::kWaitAll | core::kWaitForSubmit | core::kWaitAvailable |
                               core::kWaitDeadline | SYNCOBJ_WIRE_WAIT_POLL_ONLY;
    if (req.flags & ~known)
        return Reply::fail(EINVAL, "unknown wait flags");
    if (auto st = timelines(req.handles); !st)
        return Reply::fail(st.error());
    bool poll_only = req.flags & SYNCOBJ_WIRE_WAIT_POLL_ONLY;
    if (!poll_only) {
        FdInfo info = inspect_fd(fds[0].get(), s.registry.pipefs_dev());
        if (info.kind != FdKind::Eventfd)
            return Reply::fail(EINVAL, describe_fd(fds[0].get(), info) + " is not an eventfd");
        if (waits.count(req.wait_id))
            return Reply::fail(EEXIST, "wait id " + std::to_string(req.wait_id) + " is already pending");
        auto lim = check_budget(1, 1);
        if (!lim)
            return Reply::fail(lim.error());
    }
    for (size_t i = 0; i < batch.size(); i++)
        if (!(req.flags & (core::kWaitForSubmit | core::kWaitAvailable)) && !batch[i]->submitted(req.points[i]))
            return Reply::fail(EINVAL, "point " + std::to_string(req.points[i]) +
                                           " is not submitted (entry " + std::to_string(i) + ")");
    auto group = std::make_unique<WaitGroup>();
    group->conn = this;
    group->wait_id = req.wait_id;
    group->all = req.flags & core::kWaitAll;
    uint32_t flags = req.flags & (core::kWaitForSubmit | core::kWaitAvailable);
    group->entry_count = static_cast<uint32_t>(batch.size());
    group->entries = std::make_unique<WaitGroup::Entry[]>(group->entry_count);
    for (uint32_t i = 0; i < group->entry_count && !group->done; i++) {
        WaitGroup::Entry& e = group->entries[i];
        e.group = group.get();
        e.index = i;
        auto st = batch[i]->wait(e, req.points[i], flags);
        if (!st)
            return Reply::fail(st.error());
    }
    Reply r;
    if (group->done) {
        r.aux = group->first;
        r.value = 1;
        if (group->error)
            return Reply::fail(group->error, "point " + std::to_string(req.points[group->first]) +
                                                 " failed: " + errno_text(group->error));
        return r;
    }
    if (poll_only)
        return Reply::fail(ETIME, "not signaled");
    group->efd = std::move(fds[0]);
    group->charge.bind(s, id, 1, 1);
    group->registered = true;
    waits[req.wait_id] = std::move(group);
    return r;
}

Reply Connection::op_eventfd(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    if (req.flags & ~core::kWaitAvailable)
        return Reply::fail(EINVAL, "eventfd flags may only hold WAIT_AVAILABLE");
    core::Timeline* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    FdInfo info = inspect_fd(fds[0].get(), s.registry.pipefs_dev());
    if (info.kind != FdKind::Eventfd)
        return Reply::fail(EINVAL, describe_fd(fds[0].get(), info) + " is not an eventfd");
    auto lim = check_budget(1, 1);
    if (!lim)
        return Reply::fail(lim.error());
    auto w = std::make_unique<EventfdWait>(s);
    w->key = s.next_key++;
    w->charge.bind(s, id, 1, 1);
    w->efd = std::move(fds[0]);
    eventfd_keys.insert(w->key);
    EventfdWait& ref = *w;
    s.eventfd_waits[w->key] = std::move(w);
    (void)t->wait(ref, req.point, req.flags | core::kWaitForSubmit);
    return {};
}

Reply Connection::op_transfer(const WireRequest& req)
{
    if (req.flags & ~core::kWaitForSubmit)
        return Reply::fail(EINVAL, "transfer flags may only hold WAIT_FOR_SUBMIT");
    core::Timeline* src = timeline(req.handle);
    core::Timeline* dst = timeline(req.dst_handle);
    if (!src || !dst)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(src ? req.dst_handle : req.handle));
    if (auto st = check_pending_points(*dst, req.dst_handle); !st)
        return Reply::fail(st.error());
    if (auto st = check_points_budget(1); !st)
        return Reply::fail(st.error());
    auto fence = src->fence_for(req.point, req.flags);
    if (!fence)
        return Reply::fail(fence.error());
    dst->add(req.dst_point, std::move(fence.value()), point_token());
    return {};
}


Reply Connection::op_export(const WireRequest& req)
{
    core::Timeline* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    auto fence = t->fence_for(req.point, 0);
    if (!fence)
        return Reply::fail(fence.error());
    // A pending export keeps the service's end of it (an fd) until the point resolves.
    if (!fence.value()->resolved())
        if (auto lim = check_budget(1, 1); !lim)
            return Reply::fail(lim.error());
    auto fd = s.export_fence(std::move(fence.value()), id);
    if (!fd)
        return Reply::fail(fd.error());
    Reply r;
    r.fd = std::move(fd.value());
    return r;
}


Reply Connection::op_import_sync_file(const WireRequest& req, std::vector<UniqueFd>& fds)
{
    core::Timeline* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    if (auto st = check_pending_points(*t, req.handle); !st)
        return Reply::fail(st.error());
    if (auto st = check_points_budget(1); !st)
        return Reply::fail(st.error());
    FdInfo info = inspect_fd(fds[0].get(), s.registry.pipefs_dev());
    auto fence = s.import_sync_file(std::move(fds[0]), info, *this);
    if (!fence)
        return Reply::fail(fence.error());
    t->add(req.point, std::move(fence.value()), point_token());
    return {};
}

Reply Connection::op_point_state(const WireRequest& req)
{
    core::Timeline* t = timeline(req.handle);
    if (!t)
        return Reply::fail(ENOENT, "no timeline with handle " + std::to_string(req.handle));
    PointStatus info = t->info(req.point);
    Reply r;
    r.aux = static_cast<uint32_t>(info.state);
    r.value = static_cast<uint64_t>(info.error);
    return r;
}


} // namespace syncway::syncobj
