import IOGateCore
