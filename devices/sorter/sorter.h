// sortd sorters: the PLC over Modbus TCP / RTU (libmodbus), docs/register-map.md.
// PlcClient (plc_client.h) holds the protocol; the Driver here only moves commands from the
// core into it and its events back to the core.
#pragma once

#include <vector>

#include "driver.h"

namespace sortd::dev::sorter {

// "sorter"/"modbus-tcp" and "sorter"/"modbus-rtu".
std::vector<DriverInfo> sorter_drivers();

}  // namespace sortd::dev::sorter
