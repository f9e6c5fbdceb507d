// sortd sorter: the Modbus register map shared with the PLC (docs/register-map.md is the
// reference a PLC programmer works from; this header is its transcription for our code).
// Everything lives in holding registers (FC3 read, FC6/FC16 write, optionally FC23), in four
// areas whose base addresses are configurable:
//   command area  (host writes):  the sort-command mailbox and the host heartbeat
//   status area   (PLC writes):   heartbeat, fault, ack, ring heads, chute bits
//   confirmation ring, induction ring, measurement ring (PLC writes)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sortd::sorter {

inline constexpr std::uint16_t kMapVersion = 1;

// Offsets in the command area (host -> PLC).
namespace cmd {
inline constexpr int SeqHi = 0;
inline constexpr int SeqLo = 1;
inline constexpr int TidHi = 2;
inline constexpr int TidLo = 3;
inline constexpr int Chute = 4;
inline constexpr int MailboxSize = 5;  // SeqHi..Chute, written in ONE FC16 request
inline constexpr int HostHeartbeat = 5;
inline constexpr int Size = 8;  // 6..7 reserved, write 0
}  // namespace cmd

// Offsets in the status area (PLC -> host).
namespace st {
inline constexpr int MapVersion = 0;
inline constexpr int BootId = 1;
inline constexpr int PlcHeartbeat = 2;
inline constexpr int HostHeartbeatEcho = 3;
inline constexpr int FaultCode = 4;
inline constexpr int State = 5;
inline constexpr int AckSeqHi = 6;
inline constexpr int AckSeqLo = 7;
inline constexpr int AckResult = 8;
inline constexpr int ConfNext = 9;
inline constexpr int InductNext = 10;
inline constexpr int MeasNext = 11;
inline constexpr int ConfRingSize = 12;
inline constexpr int InductRingSize = 13;
inline constexpr int MeasRingSize = 14;
inline constexpr int ChuteCount = 15;
inline constexpr int ChuteFull = 16;     // 8 words: chute c is bit (c-1)%16 of word (c-1)/16
inline constexpr int ChuteEnabled = 24;  // 8 words, same layout
inline constexpr int Size = 32;
inline constexpr int MaxChutes = 128;
}  // namespace st

// PLC_STATE bits.
inline constexpr std::uint16_t kStateRunning = 1u << 0;
inline constexpr std::uint16_t kStateHostOk = 1u << 1;
inline constexpr std::uint16_t kStateFailSafe = 1u << 2;

// ACK_RESULT values.
inline constexpr std::uint16_t kAckAccepted = 1;
inline constexpr std::uint16_t kAckRepeat = 2;
inline constexpr std::uint16_t kAckRefused = 3;

// Ring entry layouts. Every entry starts with its entry number (the value of the ring's NEXT
// counter when it was written), so a reader can tell a fresh entry from an overwritten one.
namespace conf {
inline constexpr int EntryNo = 0, SeqHi = 1, SeqLo = 2, TidHi = 3, TidLo = 4, Chute = 5,
                     Outcome = 6;
inline constexpr int EntrySize = 7;
}  // namespace conf
namespace ind {
inline constexpr int EntryNo = 0, TidHi = 1, TidLo = 2;
inline constexpr int EntrySize = 3;
}  // namespace ind
namespace meas {
inline constexpr int EntryNo = 0, TidHi = 1, TidLo = 2, WeightHi = 3, WeightLo = 4, Length = 5,
                     Width = 6, Height = 7;
inline constexpr int EntrySize = 8;
}  // namespace meas

// Outcome codes in a confirmation entry (same numbers as sortd::DivertOutcome).
inline constexpr std::uint16_t kOutcomeDiverted = 1;
inline constexpr std::uint16_t kOutcomeRecirculated = 2;
inline constexpr std::uint16_t kOutcomeRejected = 3;
inline constexpr std::uint16_t kOutcomeLost = 4;

// Fault codes (FAULT_CODE); 0 = none. 100.. are vendor specific.
inline constexpr std::uint16_t kFaultNone = 0;
inline constexpr std::uint16_t kFaultEmergencyStop = 1;
inline constexpr std::uint16_t kFaultBeltStopped = 2;
inline constexpr std::uint16_t kFaultJam = 3;
inline constexpr std::uint16_t kFaultExceptionChuteFull = 4;
inline constexpr std::uint16_t kFaultDriveFault = 5;
std::string describe_fault(std::uint16_t code);

// Where the areas are, and how big the rings are. Ring sizes are powers of two so that the
// 16-bit entry numbers map to slots consistently across their wrap (slot = entry_no % size).
struct RegisterMap {
  int command_base = 0;
  int status_base = 100;
  int confirm_base = 200;
  int induct_base = 400;
  int measure_base = 500;
  int confirm_ring = 16;  // entries, <= 16 (7 registers each: one read)
  int induct_ring = 32;   // entries, <= 32 (3 registers each)
  int measure_ring = 8;   // entries, <= 8  (8 registers each)

  // One message per problem; empty when the map is usable.
  std::vector<std::string> check() const;
  int end() const;  // one past the highest address used
};

inline std::uint32_t u32(std::uint16_t hi, std::uint16_t lo) {
  return (std::uint32_t(hi) << 16) | lo;
}
inline std::uint16_t hi16(std::uint32_t v) {
  return std::uint16_t(v >> 16);
}
inline std::uint16_t lo16(std::uint32_t v) {
  return std::uint16_t(v & 0xffff);
}

}  // namespace sortd::sorter
