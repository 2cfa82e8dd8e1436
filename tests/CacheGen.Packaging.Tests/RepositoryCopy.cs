using System.Diagnostics;

namespace CacheGen.Packaging.Tests;

/// <summary>
/// A copy of this repository's working tree (sources only: no bin, obj or .git) in a temporary folder, where README
/// commands run as a user would run them in a fresh clone, without touching the bin/obj folders other tests use.
/// One per test collection; the tests that share it run one after another.
/// </summary>
public sealed class RepositoryCopy : IDisposable
{
    private static readonly HashSet<string> SkippedDirectories = new(StringComparer.Ordinal)
        { ".git", "bin", "obj", "TestResults", "BenchmarkDotNet.Artifacts", "artifacts", ".vs", ".idea" };

    /// <summary>The repository these tests were built from.</summary>
    public static readonly string Source = FindRepositoryRoot();

    private readonly string _parent = Directory.CreateTempSubdirectory("cachegen-readme-").FullName;

    public RepositoryCopy()
    {
        Root = Path.Combine(_parent, "cachegen");
        Copy(new DirectoryInfo(Source), Directory.CreateDirectory(Root));
    }

    /// <summary>The copy's root, the folder the README's commands run in unless it says otherwise.</summary>
    public string Root { get; }

    private static void Copy(DirectoryInfo from, DirectoryInfo to)
    {
        foreach (FileInfo file in from.EnumerateFiles())
        {
            // A sample database left by a local `dotnet run` would change what addpost and the API see.
            if (file.Name.StartsWith("posts.db", StringComparison.Ordinal))
                continue;
            file.CopyTo(Path.Combine(to.FullName, file.Name));
        }
        foreach (DirectoryInfo directory in from.EnumerateDirectories())
        {
            if (!SkippedDirectories.Contains(directory.Name) && !directory.Attributes.HasFlag(FileAttributes.ReparsePoint))
                Copy(directory, to.CreateSubdirectory(directory.Name));
        }
    }

    private static string FindRepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CacheGen.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("CacheGen.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => Directory.Delete(_parent, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class RepositoryCopyCollection : ICollectionFixture<RepositoryCopy>
{
    public const string Name = "a copy of the repository";
}

/// <summary>Runs processes for the packaging tests: README lines through bash, other steps directly.</summary>
internal static class Processes
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs one README command line through <c>bash -c</c>, exactly as written except that <see cref="ReadmeCommands.PackageFolder"/>
    /// becomes <paramref name="packageFolder"/>. Fails the test unless it exits with 0; returns stdout and stderr.
    /// </summary>
    public static string Shell(string commandLine, string directory, string? packageFolder = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        string line = packageFolder is null ? commandLine : commandLine.Replace(ReadmeCommands.PackageFolder, packageFolder, StringComparison.Ordinal);
        return Run("bash", directory, environment, "-c", line);
    }

    /// <summary>Runs a program with arguments; fails the test unless it exits with 0; returns stdout and stderr.</summary>
    public static string Run(string file, string directory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        (int exitCode, string output) = TryRun(file, directory, environment, arguments);
        Assert.True(exitCode == 0, $"{file} {string.Join(' ', arguments)} (in {directory}) exited with {exitCode}:\n{output}");
        return output;
    }

    /// <summary>Runs a program with arguments; returns its exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Output) TryRun(string file, string directory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        using Process process = Start(file, directory, environment, arguments);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string shown = $"{file} {string.Join(' ', arguments)} (in {directory})";
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{shown} did not finish in {Timeout.TotalMinutes} minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Starts a program with redirected output in a clean environment (see <see cref="Clean"/>).</summary>
    public static Process Start(string file, string directory, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        Clean(start.Environment);
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        return Process.Start(start)!;
    }

    /// <summary>
    /// What a user's shell would not have: this test host's MSBuild/SDK variables (a child would build with the wrong
    /// SDK state) and a CacheGen Redis setting from the test environment.
    /// </summary>
    private static void Clean(IDictionary<string, string?> environment)
    {
        foreach (string variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH", "CacheGen__Redis" })
            environment.Remove(variable);
        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
    }
}
