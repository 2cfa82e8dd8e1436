using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheGen.Testing;

/// <summary>
/// A private redis-server on a free loopback port, started for a test and stopped by pid. Persistence is off unless
/// a test asks for it. Fault tests use <see cref="Kill"/>, <see cref="Freeze"/>, <see cref="Thaw"/> and <see cref="Restart"/>.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string[] _extraArguments;
    private Process? _process;

    private RedisServer(string[] extraArguments)
    {
        _extraArguments = extraArguments;
        Directory = Path.Combine(Path.GetTempPath(), "cachegen-redis-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    /// <summary>The loopback port the server listens on (kept across <see cref="Restart"/>).</summary>
    public int Port { get; private set; }

    /// <summary>The server's working directory (its dump and AOF files, when persistence is on).</summary>
    public string Directory { get; }

    /// <summary>The running process's id.</summary>
    public int Pid => _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");

    /// <summary>A StackExchange.Redis configuration string for this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Starts redis-server with <c>--save '' --appendonly no</c> plus <paramref name="extraArguments"/>.</summary>
    public static RedisServer Start(params string[] extraArguments)
    {
        var server = new RedisServer(extraArguments);
        try
        {
            server.Port = FreePort();
            server.Launch();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Like <see cref="Start"/>, on a port the caller chose (a cluster node also needs port + 10000 free for its bus).</summary>
    public static RedisServer StartOnPort(int port, params string[] extraArguments)
    {
        var server = new RedisServer(extraArguments) { Port = port };
        try
        {
            server.Launch();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Kills the process with SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        try
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Freezes the process (SIGSTOP): connections stay open, nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Resumes a frozen process (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    /// <summary>Starts the server again on the same port and directory (after <see cref="Kill"/>).</summary>
    public void Restart()
    {
        Kill();
        Launch();
    }

    /// <summary>Runs one command through redis-cli and returns its output.</summary>
    public string Cli(params string[] arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-p");
        info.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        using Process cli = Process.Start(info)!;
        string output = cli.StandardOutput.ReadToEnd();
        cli.WaitForExit();
        return output.Trim();
    }

    public void Dispose()
    {
        Kill();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Launch()
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Directory,
        };
        foreach (string argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", Directory, "--protected-mode", "no" })
            info.ArgumentList.Add(argument);
        foreach (string argument in _extraArguments)
            info.ArgumentList.Add(argument);
        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("redis-server is not installed: run `apt-get install redis-server` (./test.sh does).", e);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilReady();
    }

    private void WaitUntilReady()
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (_process!.HasExited)
                throw new InvalidOperationException($"redis-server exited with code {_process.ExitCode} on port {Port}.");
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                using NetworkStream stream = client.GetStream();
                stream.Write("PING\r\n"u8);
                var reply = new byte[64];
                int read = stream.Read(reply, 0, reply.Length);
                string answer = Encoding.ASCII.GetString(reply, 0, read);
                // A server started with --requirepass answers -NOAUTH: it is up all the same.
                if (answer.StartsWith("+PONG", StringComparison.Ordinal) || answer.StartsWith("-NOAUTH", StringComparison.Ordinal))
                    return;
            }
            catch (SocketException)
            {
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"redis-server did not answer PING on port {Port} within 20 s.");
    }

    private void Signal(string signal)
    {
        using Process kill = Process.Start("kill", $"-{signal} {Pid}");
        kill.WaitForExit();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
