//! Host tests of what agents call: the MCP endpoint, the tools, the REST proxy.

mod mcp;
mod proxy;
mod tools;
