#!/usr/bin/env python3
"""Tests of select_kernel.py: which VM kernel is used, and why others are refused."""

import hashlib
import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import select_kernel as sk  # noqa: E402

FRAGMENT = """# a fragment
CONFIG_DRM=y
CONFIG_DRM_VKMS=y
# CONFIG_SOUND is not set
"""


def sha(data):
    return hashlib.sha256(data).hexdigest()


class SelectKernel(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        self.fragment = self.dir / "syncway-vm.config"
        self.fragment.write_text(FRAGMENT)
        self.prebuilt = self.dir / "prebuilt"
        self.prebuilt.mkdir()
        self.cache = self.dir / "cache"
        self.env = {"SYNCWAY_VM_PREBUILT": str(self.prebuilt), "XDG_CACHE_HOME": str(self.cache)}

    def tearDown(self):
        self.tmp.cleanup()

    def put_kernel(self, name="bzImage", data=b"kernel", checksum=None):
        (self.prebuilt / name).write_bytes(data)
        (self.prebuilt / f"{name}.sha256").write_text(f"{checksum or sha(data)}  {name}\n")

    def select(self, version):
        return sk.select(version, self.env, self.fragment)

    def test_recorded_fragment_match_is_used(self):
        self.put_kernel("bzImage-6.12")
        (self.prebuilt / "fragment-6.12.sha256").write_text(sha(FRAGMENT.encode()) + "\n")
        path, why = self.select("6.12")
        self.assertEqual(path, self.prebuilt / "bzImage-6.12")
        self.assertIn("fragment sha256", why)

    def test_recorded_fragment_mismatch_is_refused(self):
        self.put_kernel("bzImage-6.12")
        (self.prebuilt / "fragment-6.12.sha256").write_text(sha(b"older fragment") + "\n")
        with self.assertRaisesRegex(sk.NoKernel, "changed since"):
            self.select("6.12")

    def test_kernel_checksum_mismatch_is_refused(self):
        self.put_kernel("bzImage", checksum=sha(b"something else"))
        (self.prebuilt / "config").write_text("CONFIG_DRM=y\nCONFIG_DRM_VKMS=y\n")
        with self.assertRaisesRegex(sk.NoKernel, "does not match"):
            self.select("6.1")

    def test_missing_checksum_is_refused(self):
        (self.prebuilt / "bzImage").write_bytes(b"kernel")
        with self.assertRaisesRegex(sk.NoKernel, "unverified"):
            self.select("6.1")

    def test_config_holding_the_fragment_is_used_when_no_fragment_sum(self):
        self.put_kernel("bzImage")
        (self.prebuilt / "config").write_text(
            "CONFIG_DRM=y\nCONFIG_DRM_VKMS=y\n# CONFIG_SOUND is not set\nCONFIG_OTHER=m\n")
        path, why = self.select("6.1")
        self.assertEqual(path, self.prebuilt / "bzImage")
        self.assertIn("holds every option", why)

    def test_config_lacking_an_option_is_refused_and_named(self):
        self.put_kernel("bzImage")
        (self.prebuilt / "config").write_text("CONFIG_DRM=y\nCONFIG_SOUND=y\n")
        with self.assertRaises(sk.NoKernel) as caught:
            self.select("6.1")
        self.assertIn("CONFIG_DRM_VKMS=y (has: n)", str(caught.exception))
        self.assertIn("CONFIG_SOUND=n (has: y)", str(caught.exception))

    def test_no_fragment_evidence_is_refused(self):
        self.put_kernel("bzImage")
        with self.assertRaisesRegex(sk.NoKernel, "nothing says it was built for our fragment"):
            self.select("6.1")

    def test_given_path_wins(self):
        given = self.dir / "mine"
        given.write_bytes(b"k")
        self.env["SYNCWAY_VM_KERNEL"] = str(given)
        self.assertEqual(self.select("6.1")[0], given)

    def test_cache_is_used_only_for_our_fragment(self):
        del self.env["SYNCWAY_VM_PREBUILT"]
        cache = self.cache / "syncway" / "vm-kernel-6.12"
        # select_kernel computes its cache paths at import from the real environment; look the
        # cache up through the same table, pointed at this test's directory.
        saved = sk.VERSIONS["6.12"]
        sk.VERSIONS["6.12"] = (saved[0], cache, saved[2])
        try:
            cache.mkdir(parents=True)
            (cache / "bzImage").write_bytes(b"built")
            (cache / "fragment.sha256").write_text(sha(b"another fragment") + "\n")
            with self.assertRaisesRegex(sk.NoKernel, "built for another fragment"):
                self.select("6.12")
            (cache / "fragment.sha256").write_text(sha(FRAGMENT.encode()) + "\n")
            self.assertEqual(self.select("6.12")[0], cache / "bzImage")
        finally:
            sk.VERSIONS["6.12"] = saved

    def test_real_fragment_parses(self):
        options = sk.config_options(sk.FRAGMENT.read_text())
        self.assertEqual(options.get("CONFIG_DRM_VKMS"), "y")
        self.assertEqual(options.get("CONFIG_SOUND"), "n")


if __name__ == "__main__":
    unittest.main()
