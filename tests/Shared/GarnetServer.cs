using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheGen.Testing;

/// <summary>
/// A private Microsoft Garnet server on a free loopback port, started for a test run and stopped by pid, like
/// <see cref="RedisServer"/>. It runs the repository's local tool (<c>garnet-server</c> in .config/dotnet-tools.json,
/// restored by <c>dotnet tool restore</c>, which ./test.sh runs). Garnet keeps nothing on disk unless asked to.
/// With <c>lua: false</c> it refuses EVAL, EVALSHA and SCRIPT, as Garnet does by default.
/// </summary>
public sealed class GarnetServer : IDisposable
{
    private readonly Process _process;

    private GarnetServer(int port, bool lua)
    {
        Port = port;
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // `dotnet tool run` finds the tool through the manifest above this directory.
            WorkingDirectory = RepositoryRoot(),
        };
        foreach (string argument in new[] { "tool", "run", "garnet-server", "--", "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--lua", lua ? "true" : "false" })
            info.ArgumentList.Add(argument);
        _process = Process.Start(info) ?? throw new InvalidOperationException("garnet-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Starts Garnet with Lua scripting on (<paramref name="lua"/> true) or off (Garnet's default).</summary>
    public static GarnetServer Start(bool lua = true)
    {
        var server = new GarnetServer(FreePort(), lua);
        try
        {
            server.WaitUntilReady();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            // The tool runner starts the server as its child: both go.
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
    }

    private void WaitUntilReady()
    {
        // A .NET server started through the tool runner: slower to start than redis-server, more so on a busy machine.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"garnet-server exited with code {_process.ExitCode} on port {Port}: run `dotnet tool restore` (./test.sh does).");
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                using NetworkStream stream = client.GetStream();
                stream.Write("PING\r\n"u8);
                var reply = new byte[64];
                int read = stream.Read(reply, 0, reply.Length);
                if (Encoding.ASCII.GetString(reply, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException)
            {
            }
            Thread.Sleep(50);
        }
        throw new TimeoutException($"garnet-server did not answer PING on port {Port} within 90 s.");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, ".config", "dotnet-tools.json")))
                return directory.FullName;
        }
        throw new InvalidOperationException("No .config/dotnet-tools.json above the test assembly: garnet-server is a local tool of this repository.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
