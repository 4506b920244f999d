// SPDX-License-Identifier: GPL-2.0-or-later
//
// QEMU's firmware table loader commands (see table_loader.h).
#include "acpi/table_loader.h"

#include <cassert>
#include <cstring>

namespace qtpm::acpi {

namespace {

void put_name(char *field, std::string_view name) {
  assert(!name.empty() && name.size() < kLoaderFileNameSize && "loader: file name length");
  std::memset(field, 0, kLoaderFileNameSize);
  std::memcpy(field, name.data(), name.size());
}

// A name field must hold 1..55 characters and a NUL.
bool get_name(const char *field, std::string *out) {
  size_t n = strnlen(field, kLoaderFileNameSize);
  if (n == 0 || n == kLoaderFileNameSize) return false;
  out->assign(field, n);
  return true;
}

bool is_power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

void TableLoader::push(const TableLoaderEntry &entry) {
  Bytes b = struct_bytes(entry);
  bytes_.insert(bytes_.end(), b.begin(), b.end());
}

void TableLoader::allocate(std::string_view file, uint32_t align, LoaderZone zone) {
  assert(is_power_of_two(align));
  TableLoaderEntry e{};
  e.command.set(static_cast<uint32_t>(LoaderCommandType::kAllocate));
  put_name(e.allocate.file, file);
  e.allocate.align.set(align);
  e.allocate.zone = static_cast<uint8_t>(zone);
  push(e);
}

void TableLoader::add_pointer(std::string_view dest_file, uint32_t offset, uint8_t size,
                              std::string_view src_file) {
  assert(size == 1 || size == 2 || size == 4 || size == 8);
  TableLoaderEntry e{};
  e.command.set(static_cast<uint32_t>(LoaderCommandType::kAddPointer));
  put_name(e.pointer.dest_file, dest_file);
  put_name(e.pointer.src_file, src_file);
  e.pointer.offset.set(offset);
  e.pointer.size = size;
  push(e);
}

void TableLoader::add_checksum(std::string_view file, uint32_t offset, uint32_t start,
                               uint32_t length) {
  TableLoaderEntry e{};
  e.command.set(static_cast<uint32_t>(LoaderCommandType::kAddChecksum));
  put_name(e.checksum.file, file);
  e.checksum.offset.set(offset);
  e.checksum.start.set(start);
  e.checksum.length.set(length);
  push(e);
}

Status TableLoader::parse(const Bytes &bytes, std::vector<TableLoaderCommand> *out) {
  out->clear();
  if (bytes.size() % sizeof(TableLoaderEntry) != 0)
    return Status::errorf("table-loader: %zu bytes is not a whole number of 128-byte commands",
                          bytes.size());
  for (size_t pos = 0; pos < bytes.size(); pos += sizeof(TableLoaderEntry)) {
    TableLoaderEntry e;
    std::memcpy(&e, bytes.data() + pos, sizeof e);  // bounds: pos + 128 <= size, checked above
    size_t index = pos / sizeof e;
    // QEMU pads its command list to 4 KiB with zeros; firmware skips command 0.
    if (e.command.get() == 0) continue;
    TableLoaderCommand c{};
    c.type = static_cast<LoaderCommandType>(e.command.get());
    bool ok = true;
    switch (c.type) {
      case LoaderCommandType::kAllocate:
        ok = get_name(e.allocate.file, &c.file) && is_power_of_two(e.allocate.align.get()) &&
             (e.allocate.zone == 1 || e.allocate.zone == 2);
        c.align = static_cast<uint32_t>(e.allocate.align.get());
        c.zone = static_cast<LoaderZone>(e.allocate.zone);
        break;
      case LoaderCommandType::kAddPointer:
        c.size = e.pointer.size;
        ok = get_name(e.pointer.dest_file, &c.file) && get_name(e.pointer.src_file, &c.src_file) &&
             (c.size == 1 || c.size == 2 || c.size == 4 || c.size == 8);
        c.offset = static_cast<uint32_t>(e.pointer.offset.get());
        break;
      case LoaderCommandType::kAddChecksum:
        ok = get_name(e.checksum.file, &c.file);
        c.offset = static_cast<uint32_t>(e.checksum.offset.get());
        c.start = static_cast<uint32_t>(e.checksum.start.get());
        c.length = static_cast<uint32_t>(e.checksum.length.get());
        break;
      default:
        return Status::errorf("table-loader: command %zu has unknown type %u", index,
                              static_cast<unsigned>(e.command.get()));
    }
    if (!ok) return Status::errorf("table-loader: command %zu is malformed", index);
    out->push_back(std::move(c));
  }
  return Status::ok();
}

}  // namespace qtpm::acpi
