// iogated: the privileged IOGate helper. Thin: parses flags and hands over to IOGateServer.
import Glibc
import IOGateServer

exit(DaemonMain.run(CommandLine.arguments))
