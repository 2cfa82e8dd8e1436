using System.Diagnostics;
using System.Text;

namespace CacheGen.Tool.Tests;

/// <summary>The real <c>cachegen</c> tool, run as its own process from its build output (the same configuration as these tests).</summary>
internal sealed class Cachegen : IDisposable
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _errors = new();

    private Cachegen(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_errors, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
            return;
        lock (text)
            text.Append(line).Append('\n');
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
            return text.ToString();
    }

    /// <summary>What the tool printed on stdout so far.</summary>
    public string Output => Read(_output);

    private static string ToolPath
    {
        get
        {
            // tests/CacheGen.Tool.Tests/bin/<Configuration>/net10.0/ -> tools/CacheGen.Tool/bin/<Configuration>/net10.0/
            var framework = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string configuration = framework.Parent!.Name;
            DirectoryInfo root = framework;
            while (!File.Exists(Path.Combine(root.FullName, "CacheGen.sln")))
                root = root.Parent ?? throw new InvalidOperationException("no CacheGen.sln above " + AppContext.BaseDirectory);
            return Path.Combine(root.FullName, "tools", "CacheGen.Tool", "bin", configuration, framework.Name, "CacheGen.Tool.dll");
        }
    }

    /// <summary>Starts <c>cachegen ARGS</c>.</summary>
    public static Cachegen Start(params string[] arguments) => StartIn(directory: null, arguments);

    /// <summary>Starts <c>cachegen ARGS</c> in <paramref name="directory"/> (null: the test's own), as a user in the app's folder.</summary>
    public static Cachegen StartIn(string? directory, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ToolPath);
        foreach (string argument in arguments)
            info.ArgumentList.Add(argument);
        // The settings come from the command line in these tests, not from whatever the machine has set.
        foreach (string name in info.Environment.Keys.Where(k => k.StartsWith("CacheGen__", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);
        return new Cachegen(Process.Start(info)!);
    }

    /// <summary>Runs <c>cachegen ARGS</c> to the end.</summary>
    public static Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] arguments) => RunInAsync(directory: null, arguments);

    /// <summary>Runs <c>cachegen ARGS</c> to the end in <paramref name="directory"/>.</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunInAsync(string? directory, params string[] arguments)
    {
        using Cachegen tool = StartIn(directory, arguments);
        return await tool.WaitAsync();
    }

    /// <summary>Waits until the tool has printed <paramref name="text"/> (it keeps running).</summary>
    public async Task WaitForOutputAsync(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < HangGuard && !_process.HasExited, $"cachegen never printed \"{text}\"; stderr: {Read(_errors)}");
            await Task.Delay(20);
        }
    }

    public async Task<(int ExitCode, string Output, string Errors)> WaitAsync()
    {
        using var timeout = new CancellationTokenSource(HangGuard);
        await _process.WaitForExitAsync(timeout.Token);
        // The parameterless wait drains the output events too.
        _process.WaitForExit();
        return (_process.ExitCode, Read(_output), Read(_errors));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill();
        _process.Dispose();
    }
}
