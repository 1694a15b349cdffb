// The knowledge-graph data layer: the WordNet parser and graph builder (checked against counts of
// the real database made by an independent script), the split's guarantees, the inverse queries,
// the filter of known tails and the reader of users' triple files.
#include "datasets/knowledge_graph.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include "common/error.h"
#include "datasets/wordnet.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace flowlab::datasets;

namespace {

const fs::path kData = fs::path(FLOWLAB_SOURCE_DIR) / "tests" / "data";
const fs::path kWordNet = "/usr/share/wordnet";

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const flowlab::RunError& e) {
    return e.what();
  }
  return "";
}

std::set<int32_t> entities_of(const std::vector<Triple>& ts) {
  std::set<int32_t> s;
  for (const auto& t : ts) s.insert({t.head, t.tail});
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(wordnet_parser)

BOOST_AUTO_TEST_CASE(a_data_line_gives_its_synset_and_pointers) {
  // A verb line: frames after the pointers must be ignored; satellites fold into adjectives.
  const auto s = wordnet::parse_data_line(
      "00001740 29 v 04 breathe 0 take_a_breath 0 respire 0 suspire 3 003 $ 00002325 v 0000 + "
      "03110323 s 0301 @ 00002724 v 0000 02 + 02 00 + 08 00 | draw air into, and expel out of",
      "data.verb", 7);
  BOOST_TEST(s.id == "00001740-v");
  BOOST_TEST(s.lemma == "breathe");
  BOOST_REQUIRE_EQUAL(s.pointers.size(), 3u);
  BOOST_TEST(s.pointers[0].symbol == "$");
  BOOST_TEST(s.pointers[1].target == "03110323-a");
  BOOST_TEST(s.pointers[2].target == "00002724-v");
}

BOOST_AUTO_TEST_CASE(a_malformed_line_names_the_file_and_line) {
  const std::string e = error_of([] { wordnet::read_synsets(kData / "wordnet_bad", {'n'}); });
  BOOST_TEST(e.find("wordnet_bad/data.noun:4:") != std::string::npos, e);
  BOOST_TEST(e.find("p_cnt '00x'") != std::string::npos, e);
  const std::string truncated = error_of(
      [] { wordnet::parse_data_line("00001740 03 n 01 entity 0 002 @ 00001930 n", "f", 3); });
  BOOST_TEST(
      truncated.find("f:3: the line ends before a pointer's source/target") != std::string::npos,
      truncated);
}

BOOST_AUTO_TEST_CASE(a_missing_database_says_which_package_installs_it) {
  flowlab::testing::TempDir empty;
  const std::string e = error_of([&] { wordnet::read_synsets(empty.path(), {'v'}); });
  BOOST_TEST(e.find("data.verb") != std::string::npos, e);
  BOOST_TEST(e.find("wordnet-base") != std::string::npos, e);
}

BOOST_AUTO_TEST_CASE(the_whole_database_gives_the_independently_counted_triples,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                       return boost::unit_test::assertion_result(
                           fs::exists(kWordNet / "data.noun"));
                     })) {
  // Counted from the same files by a separate Python script (../shared/research/models.md §4.5):
  // unique typed (h, r, t) over all synsets, satellites folded into adjectives. That count has 9
  // self-loops (a word derived from another word of its own synset), which the graph drops.
  const auto synsets = wordnet::read_synsets(kWordNet, {'n', 'v', 'a', 'r'});
  wordnet::GraphOptions o;
  o.valid_fraction = o.test_fraction = 0;
  const KnowledgeGraph g = wordnet::build_graph(synsets, o);
  BOOST_TEST(g.train.size() == 218367u - 9u);
  BOOST_TEST(g.num_entities() == 112199);
  const std::map<std::string, int64_t> expected = {{"_hypernym", 89089},
                                                   {"_derivationally_related_form", 63658 - 9},
                                                   {"_similar_to", 21386},
                                                   {"_member_meronym", 12293},
                                                   {"_has_part", 9097},
                                                   {"_instance_hypernym", 8577},
                                                   {"_synset_domain_topic_of", 6653},
                                                   {"_also_see", 3220},
                                                   {"_verb_group", 1750},
                                                   {"_member_of_domain_region", 1357},
                                                   {"_member_of_domain_usage", 1287}};
  const auto counts = relation_counts(g.train, g.num_relations());
  for (int64_t r = 0; r < g.num_relations(); ++r)
    BOOST_TEST(counts[r] == expected.at(g.relations[r]), g.relations[r]);
  // dog is a canine (the hypernym pointer of synset 02084071-n).
  const auto& ids = g.entities;
  const auto dog = std::find(ids.begin(), ids.end(), "02084071-n") - ids.begin();
  const auto canine = std::find(ids.begin(), ids.end(), "02083346-n") - ids.begin();
  BOOST_TEST(g.label(static_cast<int32_t>(dog)) == "dog");
  BOOST_TEST(std::count(g.train.begin(), g.train.end(),
                        Triple{static_cast<int32_t>(dog), 0, static_cast<int32_t>(canine)}) == 1);
}

BOOST_AUTO_TEST_CASE(the_connectivity_filter_and_cap_keep_the_most_connected_synsets) {
  // A star: 'hub' is the hypernym of five leaves; one leaf also has a part.
  std::vector<wordnet::Synset> s;
  auto synset = [&](std::string id, std::vector<wordnet::Pointer> p) {
    s.push_back({id, 'n', id, std::move(p)});
  };
  synset("00000001-n", {});
  for (int k = 2; k <= 6; ++k)
    synset(fmt::format("0000000{}-n", k), {{"@", "00000001-n"}, {"~", "00000001-n"}});
  s[1].pointers.push_back({"%p", "00000007-n"});
  synset("00000007-n", {});
  wordnet::GraphOptions o;
  o.valid_fraction = o.test_fraction = 0;
  o.min_degree = 2;  // the part (degree 1) goes, so the has-part triple goes too
  KnowledgeGraph g = wordnet::build_graph(s, o);
  BOOST_TEST(g.num_entities() == 6);
  BOOST_TEST(g.train.size() == 5u);
  o.max_entities = 3;  // the hub and the two lowest ids among equally connected leaves
  g = wordnet::build_graph(s, o);
  BOOST_TEST(g.entities == (std::vector<std::string>{"00000001-n", "00000002-n", "00000003-n"}));
  o.relations = {"_hypernym", "_nonsense"};
  const std::string e = error_of([&] { wordnet::build_graph(s, o); });
  BOOST_TEST(e.find("unknown WN18RR relation '_nonsense'") != std::string::npos, e);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(knowledge_graph)

BOOST_AUTO_TEST_CASE(the_split_keeps_every_heldout_entity_in_train_and_is_seeded) {
  std::vector<Triple> all;
  for (int32_t h = 0; h < 300; ++h) all.push_back({h, h % 3, (h * 7 + 1) % 301});
  std::sort(all.begin(), all.end());
  const Split a = split_triples(all, 0.1, 0.2, 5), b = split_triples(all, 0.1, 0.2, 5),
              c = split_triples(all, 0.1, 0.2, 6);
  BOOST_TEST(a.train == b.train);
  BOOST_TEST((a.test == b.test && a.valid == b.valid));
  BOOST_TEST(!(a.test == c.test));
  BOOST_TEST(a.train.size() + a.valid.size() + a.test.size() == all.size());
  const auto seen = entities_of(a.train);
  for (const auto* held : {&a.valid, &a.test})
    for (int32_t e : entities_of(*held)) BOOST_TEST(seen.count(e) == 1u);
  // Every triple here has two entities of degree <= 2, so many held-out triples must move.
  BOOST_TEST(a.valid.size() + a.test.size() < 90u);
  std::vector<Triple> union_of = a.train;
  union_of.insert(union_of.end(), a.valid.begin(), a.valid.end());
  union_of.insert(union_of.end(), a.test.begin(), a.test.end());
  std::sort(union_of.begin(), union_of.end());
  BOOST_TEST(union_of == all);
}

BOOST_AUTO_TEST_CASE(inverse_queries_and_known_tails) {
  const std::vector<Triple> train = {{0, 0, 1}, {0, 0, 2}, {3, 1, 0}}, test = {{0, 0, 3}};
  const auto tq = with_inverses(train, 2), sq = with_inverses(test, 2);
  BOOST_TEST(tq.size() == 6u);
  BOOST_TEST((tq[1] == Triple{1, 2, 0}));
  BOOST_TEST((tq[5] == Triple{0, 3, 3}));
  const KnownTails known({&tq, &sq}, 4);
  BOOST_TEST(known.of(0, 0) == (std::vector<int32_t>{1, 2, 3}));
  BOOST_TEST(known.of(0, 3) == (std::vector<int32_t>{3}));
  BOOST_TEST(known.of(3, 2) == (std::vector<int32_t>{0}));  // inverse of (0, 0, 3)
  BOOST_TEST(known.of(2, 0).empty());
}

BOOST_AUTO_TEST_CASE(triple_files_are_read_and_saved_and_loaded_back) {
  const KnowledgeGraph g = read_triple_files(kData / "kg" / "train.txt", kData / "kg" / "valid.txt",
                                             kData / "kg" / "test.txt");
  BOOST_TEST(g.entities == (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
  BOOST_TEST(g.relations == (std::vector<std::string>{"knows", "likes"}));
  BOOST_TEST(g.train.size() == 3u);  // the repeated line is one triple
  BOOST_TEST((g.test[0] == Triple{0, 1, 3}));
  flowlab::testing::TempDir dir;
  g.save(dir.path());
  const auto loaded =
      std::dynamic_pointer_cast<const KnowledgeGraph>(KnowledgeGraph::load(dir.path()));
  BOOST_TEST(loaded->entities == g.entities);
  BOOST_TEST(loaded->train == g.train);
  BOOST_TEST(loaded->test == g.test);
}

BOOST_AUTO_TEST_CASE(a_malformed_triple_file_names_the_file_and_line) {
  const std::string e = error_of([] {
    read_triple_files(kData / "kg_bad" / "train.txt", kData / "kg_bad" / "valid.txt",
                      kData / "kg_bad" / "test.txt");
  });
  BOOST_TEST(e.find("kg_bad/train.txt:2: expected three tab-separated fields") != std::string::npos,
             e);
  const std::string missing =
      error_of([] { read_triple_files(kData / "kg" / "nope.txt", "", ""); });
  BOOST_TEST(missing.find("cannot read") != std::string::npos, missing);
}

BOOST_AUTO_TEST_SUITE_END()
