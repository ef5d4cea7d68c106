// The shape and limits of requests a replica refuses before they reach the loop.
#include "kvs/server/request_checks.h"

#include <gtest/gtest.h>

#include "kvs/client/client.h"

namespace penncloud::kvs::server {
namespace {

pb::Command Write(pb::Op op) {
  pb::Command c;
  c.set_op(op);
  c.set_session(1);
  c.set_seq(1);
  c.set_row("row");
  c.set_column("col");
  return c;
}

TEST(RequestChecksTest, WritesNeedADataOpCellsWithinLimitsAndAnId) {
  for (pb::Op op : {pb::OP_PUT, pb::OP_CPUT, pb::OP_DELETE, pb::OP_CDELETE}) {
    EXPECT_TRUE(CheckCommand(Write(op)).ok()) << op;
  }
  for (pb::Op op : {pb::OP_SET_MAP, pb::OP_MIGRATE, pb::OP_SET_PEER, pb::OP_EXPIRE_SESSIONS}) {
    EXPECT_EQ(CheckCommand(Write(op)).error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << "a client may not write " << op;
  }
  pb::Command c = Write(pb::OP_CDELETE);
  c.set_expect_absent(true);
  EXPECT_FALSE(CheckCommand(c).ok());
  c = Write(pb::OP_PUT);
  c.set_value(std::string(kMaxValueBytes, 'v'));
  EXPECT_TRUE(CheckCommand(c).ok()) << "at the limit";
  c.set_value(std::string(kMaxValueBytes + 1, 'v'));
  EXPECT_FALSE(CheckCommand(c).ok()) << "one over";
  c = Write(pb::OP_PUT);
  c.set_row(std::string(kMaxKeyBytes + 1, 'r'));
  EXPECT_FALSE(CheckCommand(c).ok());
  c = Write(pb::OP_PUT);
  c.set_seq(0);
  EXPECT_FALSE(CheckCommand(c).ok()) << "no at-most-once id";
}

TEST(RequestChecksTest, CellsAndListLimits) {
  EXPECT_FALSE(CheckCell("", "col").ok());
  EXPECT_TRUE(CheckCell(std::string(kMaxKeyBytes, 'r'), std::string(kMaxKeyBytes, 'c')).ok());
  EXPECT_FALSE(CheckCell("row", std::string(kMaxKeyBytes + 1, 'c')).ok());
  EXPECT_FALSE(CheckListLimit(0).ok());
  EXPECT_TRUE(CheckListLimit(1).ok());
  EXPECT_TRUE(CheckListLimit(kMaxListLimit).ok());
  EXPECT_FALSE(CheckListLimit(kMaxListLimit + 1).ok());
}

TEST(RequestChecksTest, MembershipChangesNeedAKindAnIdAndAddresses) {
  pb::ChangeMembershipRequest r;
  r.mutable_member()->set_id(4);
  EXPECT_FALSE(CheckMembershipChange(r).ok()) << "no kind";
  r.set_change(pb::MEMBERSHIP_REMOVE);
  EXPECT_TRUE(CheckMembershipChange(r).ok());
  r.set_change(pb::MEMBERSHIP_ADD_LEARNER);
  EXPECT_FALSE(CheckMembershipChange(r).ok()) << "a new replica without addresses";
  r.mutable_member()->set_peer_address("h:7014");
  r.mutable_member()->set_address("h:7004");
  EXPECT_TRUE(CheckMembershipChange(r).ok());
  r.mutable_member()->set_id(0);
  EXPECT_FALSE(CheckMembershipChange(r).ok()) << "ids start at 1";
}

}  // namespace
}  // namespace penncloud::kvs::server
