#!/usr/bin/env python3
"""--help, the man pages and README name the same options.

For each program (the example clients too): the long options its --help prints are exactly
those its man page documents. For syncway also: every option of its --help is in README, and README names no
syncway option that --help does not have.
usage: options_agree_test.py BUILD_DIR SOURCE_DIR
"""

import re
import subprocess
import sys
import unittest
from pathlib import Path

BUILD = SOURCE = None
OPTION = re.compile(r"(?<![\w-])--[a-z](?:[a-z0-9-]*[a-z0-9])?(?![\w*-])")


def options_in(text):
    return set(OPTION.findall(text))


def help_of(binary, *args):
    done = subprocess.run([str(BUILD / binary), *args, "--help"], capture_output=True,
                          text=True, timeout=30)
    if done.returncode != 0:
        raise AssertionError(f"{binary} --help exited {done.returncode}: {done.stderr}")
    return done.stdout


def man_options(page):
    text = (SOURCE / "docs" / "man" / f"{page}.scd").read_text()
    # scdoc marks options as *--name*; other text may mention options of other programs
    # (e.g. -Wl,--version-script) only outside bold, so look at bold spans.
    return {o for span in re.findall(r"\*([^*\n]+)\*", text) for o in options_in(span)}


class OptionsAgree(unittest.TestCase):
    def check(self, binary, page, ignore=()):
        from_help = options_in(help_of(binary)) - set(ignore)
        from_man = man_options(page) - set(ignore)
        self.assertTrue(from_help, f"{binary} --help names no option")
        self.assertEqual(sorted(from_help - from_man), [],
                         f"options of {binary} --help missing from docs/man/{page}.scd")
        self.assertEqual(sorted(from_man - from_help), [],
                         f"options in docs/man/{page}.scd that {binary} --help does not have")

    def test_syncway(self):
        self.check("compositor/syncway", "syncway.1")

    def test_syncway_check(self):
        self.check("record/syncway-check", "syncway-check.1")

    def test_syncobjd(self):
        self.check("syncobj/syncobjd", "syncobjd.1")

    def test_syncway_heaps(self):
        self.check("heaps/syncway-heaps", "syncway-heaps.1")

    def test_examples(self):
        # Those this build has (the GL ones need EGL and GLES, the GPU one GBM too).
        for example in ("explicit-sync-shm", "explicit-sync-tiles", "explicit-sync-cursor",
                        "explicit-sync-gles", "explicit-sync-gbm"):
            if (BUILD / "examples" / example).exists():
                with self.subTest(example):
                    self.check("examples/" + example, example + ".1")

    def test_readme_and_syncway_help(self):
        readme = (SOURCE / "README.md").read_text()

        def section(title):
            start = readme.index("## " + title)
            end = readme.find("\n## ", start + 1)
            return readme[start:end if end >= 0 else len(readme)]

        # The sections about syncway itself; other sections quote other programs' options.
        in_readme = options_in("".join(section(t) for t in ("Running syncway", "Explicit sync",
                                                              "Hostile clients")))
        # (--frames is also an option of the example clients these sections show; syncway has
        # one of its own.)
        from_help = options_in(help_of("compositor/syncway"))
        self.assertEqual(sorted(from_help - in_readme - {"--help", "--version", "--verbose"}), [],
                         "syncway options README does not mention")
        self.assertEqual(sorted(in_readme - from_help), [],
                         "options README gives syncway that its --help does not have")


if __name__ == "__main__":
    BUILD, SOURCE = Path(sys.argv[1]), Path(sys.argv[2])
    unittest.main(argv=sys.argv[:1])
