#include "http/router.h"

#include "gtest/gtest.h"
#include "http/json_response.h"

namespace penncloud::http {
namespace {

Request Make(std::string method, std::string target) {
  Request req;
  req.method = std::move(method);
  req.target = std::move(target);
  ParseTarget(req);
  return req;
}

Response Text(std::string s) {
  Response r;
  r.body = std::move(s);
  return r;
}

TEST(Router, MatchesExactParamAndPrefix) {
  Router router;
  router.Add("GET", "/api/me", [](Request&) { return Text("me"); });
  router.Add("GET", "/api/mail/{id}", [](Request& r) { return Text("mail " + r.params["id"]); });
  router.Add("*", "/dav/*", [](Request& r) { return Text(r.method + " " + r.params["*"]); });

  Request a = Make("GET", "/api/me");
  EXPECT_EQ(router.Dispatch(a).body, "me");
  Request b = Make("GET", "/api/mail/42");
  EXPECT_EQ(router.Dispatch(b).body, "mail 42");
  Request c = Make("PROPFIND", "/dav/docs/a%20b.txt");
  EXPECT_EQ(router.Dispatch(c).body, "PROPFIND docs/a b.txt");
  Request d = Make("MKCOL", "/dav");
  EXPECT_EQ(router.Dispatch(d).body, "MKCOL ");
  Request e = Make("GET", "/davx");
  EXPECT_EQ(router.Dispatch(e).status, 404);
  Request f = Make("GET", "/api/mail/");
  EXPECT_EQ(router.Dispatch(f).status, 404);
  Request g = Make("GET", "/api/mail/1/2");
  EXPECT_EQ(router.Dispatch(g).status, 404);
}

TEST(Router, SegmentsCountEmptyOnesAndParamsNeedText) {
  Router router;
  router.Add("GET", "/", [](Request&) { return Text("root"); });
  router.Add("GET", "/{page}", [](Request& r) { return Text("page " + r.params["page"]); });
  router.Add("GET", "/a//b", [](Request&) { return Text("empty middle"); });
  router.Add("GET", "/x/{one}/y/{two}", [](Request& r) {
    return Text(r.params["one"] + "," + r.params["two"] + "," + std::to_string(r.params.size()));
  });
  router.Add("GET", "/files/*", [](Request& r) { return Text("rest " + r.params["*"]); });

  Request root = Make("GET", "/");
  EXPECT_EQ(router.Dispatch(root).body, "root");
  Request page = Make("GET", "/login");
  EXPECT_EQ(router.Dispatch(page).body, "page login");
  Request trailing = Make("GET", "/login/");
  EXPECT_EQ(router.Dispatch(trailing).status, 404);
  Request empty_middle = Make("GET", "/a//b");
  EXPECT_EQ(router.Dispatch(empty_middle).body, "empty middle");
  Request two = Make("GET", "/x/1/y/2");
  EXPECT_EQ(router.Dispatch(two).body, "1,2,2");
  Request no_slash = Make("GET", "login");
  EXPECT_EQ(router.Dispatch(no_slash).status, 404);
  // Deeper than any pattern: only a prefix route can take it.
  std::string deep = "/files";
  for (int i = 0; i < 40; ++i) deep += "/d";
  Request deep_req = Make("GET", deep);
  EXPECT_EQ(router.Dispatch(deep_req).body, "rest " + deep.substr(7));
  Request deep_page = Make("GET", deep.substr(6));
  EXPECT_EQ(router.Dispatch(deep_page).status, 404);
}

TEST(Router, WrongMethodIs405AndHeadFallsBackToGet) {
  Router router;
  router.Add("GET", "/api/me", [](Request&) { return Text("me"); });
  Request a = Make("DELETE", "/api/me");
  Response res = router.Dispatch(a);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.body, R"({"error":"method not allowed"})");
  Request b = Make("HEAD", "/api/me");
  EXPECT_EQ(router.Dispatch(b).body, "me");
}

TEST(HttpTypes, QueryCookiesAndHeaders) {
  Request r = Make("GET", "/api/files?path=%2Fa%20b&x=1+2&flag");
  EXPECT_EQ(r.path, "/api/files");
  EXPECT_EQ(r.Query("path"), "/a b");
  EXPECT_EQ(r.Query("x"), "1 2");
  EXPECT_EQ(r.Query("flag", "none"), "");
  EXPECT_EQ(r.Query("missing", "none"), "none");
  r.headers.Add("cookie", "a=1; pc_session=tok; b=2");
  EXPECT_EQ(r.Cookie("pc_session"), "tok");
  EXPECT_EQ(r.Cookie("c"), "");
  EXPECT_EQ(r.headers.Get("COOKIE"), "a=1; pc_session=tok; b=2");
  EXPECT_EQ(PercentEncode("a b/é"), "a%20b%2F%C3%A9");
  EXPECT_EQ(PercentDecode("%zz%41", false), "%zzA");
}

class FakeReader : public BodyReader {
 public:
  explicit FakeReader(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  absl::StatusOr<std::string> Read(size_t max) override {
    if (next_ >= pieces_.size()) return std::string();
    std::string p = pieces_[next_++];
    EXPECT_LE(p.size(), max);
    return p;
  }

 private:
  std::vector<std::string> pieces_;
  size_t next_ = 0;
};

TEST(HttpTypes, ReadFullGathersPieces) {
  FakeReader reader({"ab", "cd", "e"});
  EXPECT_EQ(reader.ReadFull(4).value(), "abcd");
  EXPECT_EQ(reader.ReadFull(4).value(), "e");
  EXPECT_EQ(reader.ReadFull(4).value(), "");
}

}  // namespace
}  // namespace penncloud::http
