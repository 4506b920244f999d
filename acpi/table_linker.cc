// SPDX-License-Identifier: GPL-2.0-or-later
//
// A firmware-like table-loader interpreter (see table_linker.h).
#include "acpi/table_linker.h"

namespace qtpm::acpi {

namespace {

uint64_t align_up(uint64_t v, uint32_t align) { return (v + align - 1) & ~uint64_t{align - 1}; }

// True if [start, start + length) lies within a file of `size` bytes (no overflow).
bool in_file(uint64_t start, uint64_t length, size_t size) {
  return start <= size && length <= size - start;
}

class Linker {
 public:
  Linker(const std::vector<FirmwareFile> &files, const LinkerLayout &layout,
         std::map<std::string, LinkedFile> *out)
      : files_(files), out_(out), high_(layout.high_base), fseg_(layout.fseg_base),
        fseg_limit_(layout.fseg_limit) {}

  Status run(const TableLoaderCommand &c, size_t n) {
    switch (c.type) {
      case LoaderCommandType::kAllocate: return allocate(c, n);
      case LoaderCommandType::kAddPointer: return add_pointer(c, n);
      case LoaderCommandType::kAddChecksum: return add_checksum(c, n);
    }
    return Status::errorf("table-loader: command %zu: unknown", n);
  }

 private:
  Status allocate(const TableLoaderCommand &c, size_t n) {
    const FirmwareFile *f = nullptr;
    for (const FirmwareFile &candidate : files_)
      if (candidate.name == c.file) f = &candidate;
    if (!f) return Status::errorf("table-loader: command %zu: no file '%s'", n, c.file.c_str());
    if (out_->count(c.file))
      return Status::errorf("table-loader: command %zu: '%s' allocated twice", n, c.file.c_str());
    uint64_t *cursor = c.zone == LoaderZone::kFSeg ? &fseg_ : &high_;
    uint64_t address = align_up(*cursor, c.align);
    if (c.zone == LoaderZone::kFSeg && address + f->data.size() > fseg_limit_)
      return Status::errorf("table-loader: command %zu: '%s' does not fit the F-segment", n,
                            c.file.c_str());
    *cursor = address + f->data.size();
    (*out_)[c.file] = LinkedFile{address, c.zone, f->data};
    return Status::ok();
  }

  Status add_pointer(const TableLoaderCommand &c, size_t n) {
    auto dest = out_->find(c.file);
    auto src = out_->find(c.src_file);
    if (dest == out_->end() || src == out_->end())
      return Status::errorf("table-loader: command %zu: pointer between unallocated files", n);
    Bytes &d = dest->second.data;
    if (!in_file(c.offset, c.size, d.size()))
      return Status::errorf("table-loader: command %zu: pointer at %u+%u outside '%s'", n,
                            c.offset, c.size, c.file.c_str());
    uint64_t v = 0;
    for (unsigned i = 0; i < c.size; i++) v |= static_cast<uint64_t>(d[c.offset + i]) << (8 * i);
    v += src->second.address;
    for (unsigned i = 0; i < c.size; i++) d[c.offset + i] = static_cast<uint8_t>(v >> (8 * i));
    return Status::ok();
  }

  Status add_checksum(const TableLoaderCommand &c, size_t n) {
    auto file = out_->find(c.file);
    if (file == out_->end())
      return Status::errorf("table-loader: command %zu: checksum of unallocated '%s'", n,
                            c.file.c_str());
    Bytes &d = file->second.data;
    if (!in_file(c.start, c.length, d.size()) || c.offset >= d.size())
      return Status::errorf("table-loader: command %zu: checksum range outside '%s'", n,
                            c.file.c_str());
    d[c.offset] = static_cast<uint8_t>(d[c.offset] - byte_sum(d.data() + c.start, c.length));
    return Status::ok();
  }

  const std::vector<FirmwareFile> &files_;
  std::map<std::string, LinkedFile> *out_;
  uint64_t high_, fseg_, fseg_limit_;
};

}  // namespace

Status link_tables(const std::vector<FirmwareFile> &files, const Bytes &loader,
                   const LinkerLayout &layout, std::map<std::string, LinkedFile> *out) {
  out->clear();
  std::vector<TableLoaderCommand> commands;
  if (Status s = TableLoader::parse(loader, &commands); !s) return s;
  Linker linker(files, layout, out);
  for (size_t i = 0; i < commands.size(); i++) {
    if (Status s = linker.run(commands[i], i); !s) return s;
  }
  return Status::ok();
}

Status linked_tables(const FirmwareFiles &files, const LinkerLayout &layout,
                     std::vector<BuiltTable> *out) {
  out->clear();
  const FirmwareFile *loader = files.find(kTableLoaderFile);
  if (!loader) return Status::error("table-loader: no etc/table-loader in the file set");
  std::map<std::string, LinkedFile> linked;
  if (Status s = link_tables(files.files, loader->data, layout, &linked); !s) return s;
  auto blob = linked.find(kAcpiTablesFile);
  if (blob == linked.end()) return Status::error("table-loader: etc/acpi/tables not allocated");
  for (const BuiltTable &t : files.tables) {
    if (t.offset > blob->second.data.size() ||
        t.data.size() > blob->second.data.size() - t.offset)
      return Status::errorf("acpi: table %s lies outside etc/acpi/tables", t.signature.c_str());
    auto begin = blob->second.data.begin() + static_cast<std::ptrdiff_t>(t.offset);
    out->push_back({t.signature, t.offset, Bytes(begin, begin + static_cast<std::ptrdiff_t>(
                                                                  t.data.size()))});
  }
  return Status::ok();
}

}  // namespace qtpm::acpi
