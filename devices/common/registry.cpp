// The one place where driver names map to drivers (like gpsd's drivers/drivers.c). To add a
// driver: implement sortd::dev::Driver in its family's folder, declare its DriverInfo there,
// and list it below.
#include "driver.h"
// Each family's header declares a function returning its DriverInfo entries.
#include "printer/printer.h"
#include "scanner/scanner.h"
#include "sim_drivers.h"
#include "sorter/sorter.h"
// @registry-includes

namespace sortd::dev {

const std::vector<DriverInfo>& drivers() {
  static const std::vector<DriverInfo> all = [] {
    std::vector<DriverInfo> v;
    auto add = [&v](std::vector<DriverInfo> more) {
      for (auto& d : more) v.push_back(std::move(d));
    };
    add(sim_drivers());
    add(printer::printer_drivers());
    add(scanner::scanner_drivers());
    add(sorter::sorter_drivers());
    // @registry-entries
    return v;
  }();
  return all;
}

const DriverInfo* find_driver(const std::string& kind, const std::string& driver) {
  for (const auto& d : drivers())
    if (d.kind == kind && d.driver == driver) return &d;
  return nullptr;
}

}  // namespace sortd::dev
