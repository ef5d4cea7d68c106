#!/usr/bin/python3
"""The include-boundary check catches what it must and passes what it may, on a made-up
checkout in a temporary folder."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_includes  # noqa: E402


class CheckIncludesTest(unittest.TestCase):
    def tree(self, files):
        root = tempfile.mkdtemp(prefix="check_includes_test_")
        self.addCleanup(shutil.rmtree, root)
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        return root

    def test_forbidden_includes_are_reported_with_file_and_line(self):
        root = self.tree({
            "kvs/paxos/acceptor.h": '#pragma once\n#include "http/router.h"\n',
            "kvs/paxos/acceptor.cc": '#include "kvs/paxos/acceptor.h"\n#include <grpcpp/grpcpp.h>\n',
            "drive/drive.cc": '#include "drive/drive.h"\n#include "http/types.h"\n',
            "mail/smtp.cc": '#include "frontend/api_context.h"\n',
            "http/server.cc": '#include "proto/kvs.pb.h"\n',
        })
        checked, problems = check_includes.check(root)
        self.assertEqual(checked, 5)
        self.assertEqual(sorted(problems), [
            "drive/drive.cc:2: drive/ may not include http/types.h (module http)",
            "http/server.cc:1: http/ may not include proto/kvs.pb.h (module proto)",
            "kvs/paxos/acceptor.cc:2: kvs/paxos/ may not include grpcpp/grpcpp.h",
            "kvs/paxos/acceptor.h:2: kvs/paxos/ may not include http/router.h (module http)",
            "mail/smtp.cc:1: mail/ may not include frontend/api_context.h (module frontend)",
        ])

    def test_allowed_includes_test_code_and_mains_pass(self):
        root = self.tree({
            "frontend/routes.cc": '#include "http/router.h"\n#include "mail/mail_store.h"\n',
            "coordinator/proxy.cc": '#include "http/listener.h"\n#include <boost/beast/http.hpp>\n',
            "kvs/paxos/log.cc": '#include "proto/paxos.pb.h"\n#include "absl/status/status.h"\n',
            "kvs/paxos/log_test.cc": '#include "tests/support/process.h"\n#include <grpcpp/grpcpp.h>\n',
            "kvs/paxos/sim/world.cc": '#include "kvs/shard/cluster_map.h"\n',
            "drive/test_util.h": '#include "frontend/drive_api.h"\n',
            "mail/main_common.h": '#include "http/metrics_server.h"\n',
            "kvs/server/kvs_server_main.cc": '#include "http/metrics_server.h"\n',
        })
        checked, problems = check_includes.check(root)
        self.assertEqual(problems, [])
        self.assertEqual(checked, 3)


if __name__ == "__main__":
    unittest.main()
