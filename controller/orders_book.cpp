// The in-memory order book: every known order, found by id or by any of its codes.
//
// Compact by construction (1,000,000 orders take about 200 MB):
//  - province / city / district are interned (a few thousand distinct values);
//  - the rest of an order's text (id, codes, postcode, address, recipient, phone, preferred and
//    forbidden couriers) is packed, length-prefixed, into one byte arena; a record holds its
//    offset and the numeric fields;
//  - ids and codes are indexed by two open-addressing tables of 8-byte entries (record number and
//    32 bits of the key's hash): the key itself is read back from the record, so it is stored
//    once.
// A replaced order's old text becomes garbage in the arena; the arena is compacted when more than
// half of it is garbage.
#include <deque>
#include <functional>
#include <stdexcept>
#include <unordered_map>

#include "orders.h"

namespace sortd {

namespace {

std::uint32_t hash32(std::string_view s) {
  // FNV-1a (64-bit), folded: cheap and good enough for keys that are ids and barcodes.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return static_cast<std::uint32_t>(h);
}

void put_varint(std::string& out, std::size_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(0x80 | (v & 0x7F));
    v >>= 7;
  }
  out += static_cast<char>(v);
}

// Reads length-prefixed fields from a record's text.
struct Reader {
  const char* p;
  std::string_view next() {
    std::size_t len = 0;
    int shift = 0;
    while (true) {
      auto b = static_cast<unsigned char>(*p++);
      len |= static_cast<std::size_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) break;
      shift += 7;
    }
    std::string_view s(p, len);
    p += len;
    return s;
  }
};

// Open-addressing hash set of records, by a key read back from the record. Entries are
// (hash32 << 32) | (record + 1); 0 is empty, kTomb a deleted slot.
class RecTable {
 public:
  static constexpr std::uint64_t kTomb = 1ull << 32;

  // `match(rec)` tells whether record `rec` has the key.
  template <typename Match>
  std::size_t find(std::uint32_t h, Match&& match) const {
    if (slots_.empty()) return npos;
    for (std::size_t i = home(h);; i = (i + 1) & mask_) {
      std::uint64_t e = slots_[i];
      if (e == 0) return npos;
      if (e != kTomb && static_cast<std::uint32_t>(e >> 32) == h &&
          match(static_cast<std::uint32_t>(e) - 1))
        return i;
    }
  }
  std::uint32_t rec_at(std::size_t slot) const {
    return static_cast<std::uint32_t>(slots_[slot]) - 1;
  }
  void set_rec(std::size_t slot, std::uint32_t rec) { slots_[slot] = entry(hash_at(slot), rec); }
  std::uint32_t hash_at(std::size_t slot) const {
    return static_cast<std::uint32_t>(slots_[slot] >> 32);
  }
  void erase(std::size_t slot) {
    slots_[slot] = kTomb;
    --used_;
    ++tombs_;
  }
  void insert(std::uint32_t h, std::uint32_t rec) {
    if ((used_ + tombs_ + 1) * 10 > slots_.size() * 7) grow(used_ + 1);
    for (std::size_t i = home(h);; i = (i + 1) & mask_) {
      if (slots_[i] == 0 || slots_[i] == kTomb) {
        if (slots_[i] == kTomb) --tombs_;
        slots_[i] = entry(h, rec);
        ++used_;
        return;
      }
    }
  }
  void reserve(std::size_t n) {
    if ((n + tombs_) * 10 > slots_.size() * 7) grow(n);
  }
  std::size_t bytes() const { return slots_.capacity() * sizeof(std::uint64_t); }

  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

 private:
  static std::uint64_t entry(std::uint32_t h, std::uint32_t rec) {
    return (static_cast<std::uint64_t>(h) << 32) | (static_cast<std::uint64_t>(rec) + 1);
  }
  std::size_t home(std::uint32_t h) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(h) * 0x9E3779B97F4A7C15ull) >>
                                    (64 - bits_));
  }
  void grow(std::size_t want) {
    std::size_t cap = 16;
    int bits = 4;
    while (want * 10 > cap * 6) cap <<= 1, ++bits;
    std::vector<std::uint64_t> old;
    old.swap(slots_);
    slots_.assign(cap, 0);
    mask_ = cap - 1;
    bits_ = bits;
    used_ = tombs_ = 0;
    for (std::uint64_t e : old)
      if (e != 0 && e != kTomb) insert(static_cast<std::uint32_t>(e >> 32), rec_of(e));
  }
  static std::uint32_t rec_of(std::uint64_t e) { return static_cast<std::uint32_t>(e) - 1; }

  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0, used_ = 0, tombs_ = 0;
  int bits_ = 0;
};

}  // namespace

struct OrderBook::Impl {
  struct Rec {
    std::uint64_t off = 0;  // of the packed text in `arena`
    std::uint32_t len = 0;
    std::uint32_t province = 0, city = 0, district = 0;  // interned
    std::int32_t weight_g = 0, length_mm = 0, width_mm = 0, height_mm = 0;
    Fen cod_fen = 0;
    std::uint8_t service = 0, status = 0, flags = 0;
    std::uint8_t ncodes = 0, npreferred = 0, nforbidden = 0;
  };
  enum : std::uint8_t { kInvoice = 1, kPickup = 2, kFragile = 4 };

  std::vector<Rec> recs;
  std::string arena;
  std::size_t garbage = 0;
  RecTable ids, codes;

  std::deque<std::string> strings;  // interned values; deque: references stay valid
  std::unordered_map<std::string_view, std::uint32_t> string_ids;

  std::uint32_t intern(const std::string& s) {
    auto it = string_ids.find(s);
    if (it != string_ids.end()) return it->second;
    auto id = static_cast<std::uint32_t>(strings.size());
    strings.push_back(s);
    string_ids.emplace(strings.back(), id);
    return id;
  }

  std::string_view id_of(std::uint32_t rec) const {
    return Reader{arena.data() + recs[rec].off}.next();
  }
  bool has_code(std::uint32_t rec, std::string_view code) const {
    Reader r{arena.data() + recs[rec].off};
    r.next();  // id
    for (unsigned i = 0; i < recs[rec].ncodes; ++i)
      if (r.next() == code) return true;
    return false;
  }
  std::size_t find_id(std::string_view id) const {
    return ids.find(hash32(id), [&](std::uint32_t rec) { return id_of(rec) == id; });
  }
  std::size_t find_code(std::string_view code) const {
    return codes.find(hash32(code), [&](std::uint32_t rec) { return has_code(rec, code); });
  }

  static void check_count(std::size_t n, const char* what) {
    if (n > 255) throw std::invalid_argument(std::string("order has too many ") + what);
  }

  // Writes the packed text of an order into the arena and points `r` at it.
  void write_text(Rec& r, std::string_view id, const std::vector<std::string_view>& order_codes,
                  std::string_view postcode, std::string_view address, std::string_view recipient,
                  std::string_view phone, const std::vector<std::string_view>& preferred,
                  const std::vector<std::string_view>& forbidden) {
    check_count(order_codes.size(), "codes");
    check_count(preferred.size(), "preferred couriers");
    check_count(forbidden.size(), "forbidden couriers");
    if (r.len) garbage += r.len;
    const std::size_t start = arena.size();
    auto put = [&](std::string_view s) {
      put_varint(arena, s.size());
      arena.append(s);
    };
    put(id);
    for (auto c : order_codes) put(c);
    put(postcode);
    put(address);
    put(recipient);
    put(phone);
    for (auto c : preferred) put(c);
    for (auto c : forbidden) put(c);
    r.off = start;
    r.len = static_cast<std::uint32_t>(arena.size() - start);
    r.ncodes = static_cast<std::uint8_t>(order_codes.size());
    r.npreferred = static_cast<std::uint8_t>(preferred.size());
    r.nforbidden = static_cast<std::uint8_t>(forbidden.size());
  }

  // Text views of a record (valid until the arena changes).
  struct Text {
    std::string_view id, postcode, address, recipient, phone;
    std::vector<std::string_view> codes, preferred, forbidden;
  };
  Text text(std::uint32_t rec) const {
    const Rec& r = recs[rec];
    Reader rd{arena.data() + r.off};
    Text t;
    t.id = rd.next();
    for (unsigned i = 0; i < r.ncodes; ++i) t.codes.push_back(rd.next());
    t.postcode = rd.next();
    t.address = rd.next();
    t.recipient = rd.next();
    t.phone = rd.next();
    for (unsigned i = 0; i < r.npreferred; ++i) t.preferred.push_back(rd.next());
    for (unsigned i = 0; i < r.nforbidden; ++i) t.forbidden.push_back(rd.next());
    return t;
  }

  Order build(std::uint32_t rec) const {
    const Rec& r = recs[rec];
    Text t = text(rec);
    Order o;
    o.id.assign(t.id);
    for (auto c : t.codes) o.codes.emplace_back(c);
    o.province = strings[r.province];
    o.city = strings[r.city];
    o.district = strings[r.district];
    o.postcode.assign(t.postcode);
    o.address.assign(t.address);
    o.recipient.assign(t.recipient);
    o.phone.assign(t.phone);
    o.weight_g = r.weight_g;
    o.length_mm = r.length_mm;
    o.width_mm = r.width_mm;
    o.height_mm = r.height_mm;
    o.cod_fen = r.cod_fen;
    o.invoice = r.flags & kInvoice;
    o.pickup_point = r.flags & kPickup;
    o.fragile = r.flags & kFragile;
    o.service = static_cast<ServiceLevel>(r.service);
    o.status = static_cast<OrderStatus>(r.status);
    for (auto c : t.preferred) o.preferred.emplace_back(c);
    for (auto c : t.forbidden) o.forbidden.emplace_back(c);
    return o;
  }

  // Removes one code from another order that is losing it to a new owner.
  void drop_code(std::uint32_t rec, std::string_view code) {
    std::string copy(arena.data() + recs[rec].off, recs[rec].len);  // the views move with arena
    Reader rd{copy.data()};
    std::string_view id = rd.next();
    std::vector<std::string_view> kept;
    for (unsigned i = 0; i < recs[rec].ncodes; ++i) {
      auto c = rd.next();
      if (c != code) kept.push_back(c);
    }
    auto postcode = rd.next(), address = rd.next(), recipient = rd.next(), phone = rd.next();
    std::vector<std::string_view> pref, forb;
    for (unsigned i = 0; i < recs[rec].npreferred; ++i) pref.push_back(rd.next());
    for (unsigned i = 0; i < recs[rec].nforbidden; ++i) forb.push_back(rd.next());
    write_text(recs[rec], id, kept, postcode, address, recipient, phone, pref, forb);
  }

  void maybe_compact() {
    if (garbage < (16u << 20) || garbage * 2 < arena.size()) return;
    std::string fresh;
    fresh.reserve(arena.size() - garbage + arena.size() / 8);
    for (auto& r : recs) {
      std::uint64_t off = fresh.size();
      fresh.append(arena, r.off, r.len);
      r.off = off;
    }
    arena.swap(fresh);
    garbage = 0;
  }
};

OrderBook::OrderBook() : impl_(std::make_unique<Impl>()) {}
OrderBook::~OrderBook() = default;
OrderBook::OrderBook(OrderBook&&) noexcept = default;
OrderBook& OrderBook::operator=(OrderBook&&) noexcept = default;

bool OrderBook::upsert(const Order& o) {
  Impl& m = *impl_;
  std::vector<std::string_view> codes(o.codes.begin(), o.codes.end());
  std::vector<std::string_view> pref(o.preferred.begin(), o.preferred.end());
  std::vector<std::string_view> forb(o.forbidden.begin(), o.forbidden.end());

  const std::uint32_t hid = hash32(o.id);
  std::size_t slot = m.find_id(o.id);
  bool fresh = slot == RecTable::npos;
  std::uint32_t rec;
  if (fresh) {
    if (m.recs.size() >= 0xFFFFFFFEu) throw std::length_error("order book is full");
    rec = static_cast<std::uint32_t>(m.recs.size());
    m.recs.emplace_back();
  } else {
    rec = m.ids.rec_at(slot);
    // Unindex the old codes that still point here.
    Impl::Text old = m.text(rec);
    for (auto c : old.codes) {
      std::size_t cs = m.codes.find(hash32(c), [&](std::uint32_t r) { return r == rec; });
      if (cs != RecTable::npos) m.codes.erase(cs);
    }
  }
  Impl::Rec& r = m.recs[rec];
  m.write_text(r, o.id, codes, o.postcode, o.address, o.recipient, o.phone, pref, forb);
  r.province = m.intern(o.province);
  r.city = m.intern(o.city);
  r.district = m.intern(o.district);
  r.weight_g = o.weight_g;
  r.length_mm = o.length_mm;
  r.width_mm = o.width_mm;
  r.height_mm = o.height_mm;
  r.cod_fen = o.cod_fen;
  r.service = static_cast<std::uint8_t>(o.service);
  r.status = static_cast<std::uint8_t>(o.status);
  r.flags = static_cast<std::uint8_t>((o.invoice ? Impl::kInvoice : 0) |
                                      (o.pickup_point ? Impl::kPickup : 0) |
                                      (o.fragile ? Impl::kFragile : 0));
  if (fresh) m.ids.insert(hid, rec);

  for (const auto& c : o.codes) {
    const std::uint32_t hc = hash32(c);
    std::size_t cs = m.find_code(c);
    if (cs == RecTable::npos) {
      m.codes.insert(hc, rec);
    } else if (m.codes.rec_at(cs) != rec) {
      std::uint32_t other = m.codes.rec_at(cs);
      m.codes.set_rec(cs, rec);  // before drop_code: the other record no longer matches it
      m.drop_code(other, c);
    }
  }
  m.maybe_compact();
  return fresh;
}

bool OrderBook::set_status(std::string_view order_id, OrderStatus s) {
  std::size_t slot = impl_->find_id(order_id);
  if (slot == RecTable::npos) return false;
  impl_->recs[impl_->ids.rec_at(slot)].status = static_cast<std::uint8_t>(s);
  return true;
}

std::optional<Order> OrderBook::find(std::string_view order_id) const {
  std::size_t slot = impl_->find_id(order_id);
  if (slot == RecTable::npos) return std::nullopt;
  return impl_->build(impl_->ids.rec_at(slot));
}

std::optional<Order> OrderBook::find_by_code(std::string_view code) const {
  std::size_t slot = impl_->find_code(code);
  if (slot == RecTable::npos) return std::nullopt;
  return impl_->build(impl_->codes.rec_at(slot));
}

std::optional<std::string> OrderBook::id_by_code(std::string_view code) const {
  std::size_t slot = impl_->find_code(code);
  if (slot == RecTable::npos) return std::nullopt;
  return std::string(impl_->id_of(impl_->codes.rec_at(slot)));
}

std::size_t OrderBook::size() const {
  return impl_->recs.size();
}

void OrderBook::for_each(const std::function<void(const Order&)>& fn) const {
  for (std::uint32_t i = 0; i < impl_->recs.size(); ++i) fn(impl_->build(i));
}

void OrderBook::reserve(std::size_t orders) {
  impl_->recs.reserve(orders);
  impl_->arena.reserve(orders * 120);
  impl_->ids.reserve(orders);
  impl_->codes.reserve(orders + orders / 4);
}

std::size_t OrderBook::memory_bytes() const {
  const Impl& m = *impl_;
  std::size_t n =
      m.recs.capacity() * sizeof(Impl::Rec) + m.arena.capacity() + m.ids.bytes() + m.codes.bytes();
  for (const auto& s : m.strings) n += sizeof(std::string) + s.capacity();
  n += m.string_ids.size() * 48;
  return n;
}

}  // namespace sortd
