#include "kvs/storage/family_options.h"

#include "kvs/storage/cell_key.h"
#include "rocksdb/slice_transform.h"

namespace penncloud::kvs::storage {
namespace {

// A cell key's row part (position, length, row): the memtable's insert hint of the data
// family, so that a row's cells, rewritten or new, go in where that row's last one went.
class RowOfCellKey : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "penncloud.RowOfCellKey"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), ParseCellKey(key.ToStringView())->column_offset);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return ParseCellKey(key.ToStringView()).has_value();
  }
};

}  // namespace

rocksdb::ColumnFamilyOptions SmallFamilyOptions() {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = 16 << 20;
  return cf;
}

rocksdb::ColumnFamilyOptions RewrittenKeysFamilyOptions() {
  rocksdb::ColumnFamilyOptions cf = SmallFamilyOptions();
  // Each applied slot writes a new version of the same few keys (the applied slot, the
  // session clock, one record per client session), and a new version sorts right before
  // the last one. Keyed by the whole key (every key here is shorter than the cap), the
  // memtable remembers where each key went last and inserts there, instead of searching
  // its skip list from the top: that search was most of a leader's apply (callgrind,
  // apply_bench).
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(256));
  return cf;
}

rocksdb::ColumnFamilyOptions LogFamilyOptions() {
  // Entries are written once in slot order and deleted soon after (log_reclaimer.h): no
  // compression to spend CPU on for bytes that are about to go.
  rocksdb::ColumnFamilyOptions cf = SmallFamilyOptions();
  cf.compression = rocksdb::kNoCompression;
  return cf;
}

rocksdb::ColumnFamilyOptions DataFamilyOptions() {
  rocksdb::ColumnFamilyOptions cf = SmallFamilyOptions();
  // Key-value separation: a large value is written once, into a blob file, when its
  // memtable is flushed; compactions then move a short reference, not the value, so a
  // chunk is not rewritten at every level it passes.
  cf.enable_blob_files = true;
  cf.min_blob_size = kBlobMinBytes;
  cf.blob_file_size = 64 << 20;
  // Overwritten and deleted values are dropped from blob files: a compaction that reaches
  // the oldest quarter of them rewrites what is still live into new files.
  cf.enable_blob_garbage_collection = true;
  cf.blob_garbage_collection_age_cutoff = 0.25;
  // Level sizes follow the data's size, so at most about a tenth of the SST bytes are
  // older versions waiting for a compaction.
  cf.level_compaction_dynamic_level_bytes = true;
  // Many cells are rewritten (a mailbox's counters, a file's entry), and a new version
  // sorts right before the last one: searched from the top of the skip list, those inserts
  // were most of the apply's memtable work (apply_bench, 2,048 rows). A row new to this
  // memtable costs a hash-map entry and a splice from its arena instead (docs/kvs.md).
  cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<RowOfCellKey>();
  return cf;
}

}  // namespace penncloud::kvs::storage
