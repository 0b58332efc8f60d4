#include "ca/device_identity.h"

#include <gtest/gtest.h>

namespace keyline::ca {
namespace {

TEST(DeviceIdentityTest, Serials) {
  EXPECT_TRUE(ValidateDeviceSerial("SN-0001").ok());
  EXPECT_TRUE(ValidateDeviceSerial("a.b_c-9").ok());
  EXPECT_EQ(ValidateDeviceSerial("").message(), "device_serial: empty");
  EXPECT_FALSE(ValidateDeviceSerial(std::string(65, 'x')).ok());
  EXPECT_FALSE(ValidateDeviceSerial("-x").ok());
  EXPECT_FALSE(ValidateDeviceSerial("a:b").ok());
  EXPECT_FALSE(ValidateDeviceSerial("a b").ok());
  EXPECT_EQ(ValidateDeviceSerial("a/b", "devices[2].device_serial").message(),
            "devices[2].device_serial: only letters, digits, '.', '_' and '-' are allowed");
}

TEST(DeviceIdentityTest, HardwareModels) {
  EXPECT_TRUE(ValidateHardwareModel("StO2 Sensor R2").ok());
  EXPECT_FALSE(ValidateHardwareModel("").ok());
  EXPECT_FALSE(ValidateHardwareModel(" lead").ok());
  EXPECT_FALSE(ValidateHardwareModel("tab\there").ok());
  EXPECT_FALSE(ValidateHardwareModel("caf\xc3\xa9").ok());
}

TEST(DeviceIdentityTest, Deployments) {
  EXPECT_TRUE(ValidateDeploymentName("icu-2").ok());
  EXPECT_FALSE(ValidateDeploymentName("ICU").ok());
  EXPECT_FALSE(ValidateDeploymentName("a/b").ok());
  EXPECT_FALSE(ValidateDeploymentName("").ok());
}

}  // namespace
}  // namespace keyline::ca
