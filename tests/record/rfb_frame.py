#!/usr/bin/env python3
"""Takes one whole frame from a VNC server (RFB 3.8, security type None) in raw encoding and
writes it as packed 8-bit RGB, for comparing what a VNC server (wayvnc) serves with a reference
picture. Prints WIDTHxHEIGHT. Exit 1 with a message naming what went wrong.

    rfb_frame.py HOST PORT OUT.rgb
"""
import socket
import struct
import sys


def fail(message):
    sys.exit(f"rfb_frame: {message}")


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            fail(f"the server closed the connection ({len(buf)} of {n} bytes read)")
        buf += chunk
    return bytes(buf)


def handshake(sock):
    version = recv_exact(sock, 12)
    if not version.startswith(b"RFB 003."):
        fail(f"not an RFB server: {version!r}")
    sock.sendall(b"RFB 003.008\n")
    count = recv_exact(sock, 1)[0]
    if count == 0:
        length = struct.unpack(">I", recv_exact(sock, 4))[0]
        fail("connection refused: " + recv_exact(sock, length).decode(errors="replace"))
    types = recv_exact(sock, count)
    if 1 not in types:
        fail(f"the server wants authentication (security types {list(types)})")
    sock.sendall(bytes([1]))
    if struct.unpack(">I", recv_exact(sock, 4))[0] != 0:
        fail("the security handshake failed")
    sock.sendall(bytes([1]))  # ClientInit, shared
    width, height = struct.unpack(">HH", recv_exact(sock, 4))
    recv_exact(sock, 16)  # the server's pixel format: we set ours
    name_length = struct.unpack(">I", recv_exact(sock, 4))[0]
    recv_exact(sock, name_length)
    return width, height


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    host, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sock = socket.create_connection((host, port), timeout=20)
    width, height = handshake(sock)
    # SetPixelFormat: 32 bits a pixel, depth 24, little-endian true colour, red at bit 16,
    # green at 8, blue at 0 (bytes B, G, R, unused).
    sock.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
    sock.sendall(struct.pack(">BxHi", 2, 1, 0))  # SetEncodings: raw only
    sock.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))  # the whole frame
    frame = bytearray(width * height * 3)
    filled = bytearray(width * height)
    while not all(filled):
        kind = recv_exact(sock, 1)[0]
        if kind == 0:  # FramebufferUpdate
            recv_exact(sock, 1)
            rects = struct.unpack(">H", recv_exact(sock, 2))[0]
            for _ in range(rects):
                x, y, w, h, encoding = struct.unpack(">HHHHi", recv_exact(sock, 12))
                if encoding != 0:
                    fail(f"a rectangle in encoding {encoding}; only raw (0) was asked for")
                if x + w > width or y + h > height:
                    fail(f"rectangle {w}x{h} at {x},{y} outside the {width}x{height} frame")
                data = recv_exact(sock, w * h * 4)
                for row in range(h):
                    src = data[row * w * 4:(row + 1) * w * 4]
                    start = ((y + row) * width + x) * 3
                    end = start + w * 3
                    frame[start:end:3] = src[2::4]
                    frame[start + 1:end:3] = src[1::4]
                    frame[start + 2:end:3] = src[0::4]
                    filled[(y + row) * width + x:(y + row) * width + x + w] = b"\x01" * w
        elif kind == 2:  # Bell
            pass
        elif kind == 3:  # ServerCutText
            recv_exact(sock, 3)
            recv_exact(sock, struct.unpack(">I", recv_exact(sock, 4))[0])
        else:
            fail(f"unexpected server message type {kind}")
    with open(out, "wb") as f:
        f.write(frame)
    print(f"{width}x{height}")


if __name__ == "__main__":
    main()
