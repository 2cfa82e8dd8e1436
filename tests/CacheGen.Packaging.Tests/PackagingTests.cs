using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using CacheGen.Testing;

namespace CacheGen.Packaging.Tests;

/// <summary>
/// Packs CacheGen and CacheGen.Redis into a folder, then builds and runs a fresh console app that references only
/// CacheGen.Redis from that folder (everything else from the machine's NuGet source), against a real redis-server.
/// </summary>
public sealed class PackagingTests : IDisposable
{
    private static readonly string Root = FindRepositoryRoot();

    // A version no earlier run used, so NuGet's global package folder cannot serve a stale copy.
    private readonly string _version = "0.1.0-pack." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + Environment.ProcessId;
    private readonly string _work = Directory.CreateTempSubdirectory("cachegen-pack-").FullName;

    [Fact]
    public void PackedPackages_BuildAndRunAConsoleApp_AgainstRedis()
    {
        string feed = Path.Combine(_work, "feed");
        // Artifacts outside the repository, so packing never touches the bin/obj folders other tests run from.
        foreach (string project in new[] { "runtime/CacheGen/CacheGen.csproj", "runtime/CacheGen.Redis/CacheGen.Redis.csproj" })
            Run("dotnet", Root, "pack", Path.Combine(Root, project), "-c", "Release", "-o", feed, "--artifacts-path", Path.Combine(_work, "artifacts"), $"-p:Version={_version}");

        CheckCacheGenPackage(Path.Combine(feed, $"CacheGen.{_version}.nupkg"));
        CheckRedisPackage(Path.Combine(feed, $"CacheGen.Redis.{_version}.nupkg"));
        Assert.True(File.Exists(Path.Combine(feed, $"CacheGen.{_version}.snupkg")), "no symbol package");

        string app = Path.Combine(_work, "app");
        Run("dotnet", _work, "new", "console", "-o", app, "--no-restore");
        File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <!-- The generic host (for DI and configuration) comes with the shared framework, not a package. -->
                <FrameworkReference Include="Microsoft.AspNetCore.App" />
                <PackageReference Include="CacheGen.Redis" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        // The local feed in addition to the machine's own sources (no <clear/>).
        File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="cachegen-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);

        string build = Run("dotnet", app, "build", "-c", "Release", "-nologo");
        // The analyzer shipped too: the deliberately unused "audit" region is CG0013, and it is the only warning.
        Assert.Contains("warning CG0013", build);
        Assert.Contains("1 Warning(s)", build);

        using RedisServer redis = RedisServer.Start();
        string output = Run("dotnet", app, "bin/Release/net10.0/app.dll", $"--CacheGen:Redis={redis.Configuration}", "--CacheGen:KeyPrefix=packtest",
            "--Logging:LogLevel:Default=Warning");
        Assert.Contains("first=701 again=701 calls=1", output);
        Assert.Contains("after-reset=702 calls=2", output);
        Assert.Contains("packtest:1:{numbers}:n:7", redis.Cli("KEYS", "packtest:*"));
    }

    private const string Program = """
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddCacheGen();
        builder.Services.AddSingleton<Numbers>();
        using IHost host = builder.Build();
        await host.StartAsync();

        Numbers numbers = host.Services.GetRequiredService<Numbers>();
        int first = await numbers.GetAsync(7);
        int again = await numbers.GetAsync(7);
        Console.WriteLine($"first={first} again={again} calls={numbers.Calls}");
        await numbers.ResetAsync();
        Console.WriteLine($"after-reset={await numbers.GetAsync(7)} calls={numbers.Calls}");
        await host.StopAsync();

        public sealed partial class Numbers(HybridCache cache)
        {
            public int Calls { get; private set; }

            [Cached("numbers", Key = "n:{id}")]
            public partial Task<int> GetAsync(int id);
            private Task<int> GetCoreAsync(int id) => Task.FromResult(id * 100 + ++Calls);

            [InvalidatesCache("numbers", "audit")]
            public partial Task ResetAsync();
            private Task ResetCoreAsync() => Task.CompletedTask;
        }
        """;

    private void CheckCacheGenPackage(string path)
    {
        using ZipArchive package = ZipFile.OpenRead(path);
        string[] entries = package.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("lib/net10.0/CacheGen.dll", entries);
        Assert.Contains("lib/net10.0/CacheGen.xml", entries);
        Assert.Contains("analyzers/dotnet/cs/CacheGen.Generator.dll", entries);
        Assert.Contains("analyzers/dotnet/cs/CacheGen.CodeFixes.dll", entries);
        Assert.Contains("README.md", entries);
        XElement metadata = Nuspec(package);
        Assert.Equal("MIT", Element(metadata, "license").Value);
        Assert.Equal("expression", Element(metadata, "license").Attribute("type")?.Value);
        Assert.Equal("README.md", Element(metadata, "readme").Value);
        Assert.Null(metadata.Elements().FirstOrDefault(e => e.Name.LocalName == "icon"));
        // Only the HybridCache abstraction: the generator and code fixes are not package dependencies.
        Assert.DoesNotContain(metadata.Descendants().Where(e => e.Name.LocalName == "dependency"), d => d.Attribute("id")!.Value.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal));
    }

    private void CheckRedisPackage(string path)
    {
        using ZipArchive package = ZipFile.OpenRead(path);
        string[] entries = package.Entries.Select(e => e.FullName).ToArray();
        Assert.Contains("lib/net10.0/CacheGen.Redis.dll", entries);
        Assert.Contains("lib/net10.0/CacheGen.Redis.xml", entries);
        Assert.Contains("README.md", entries);
        Assert.DoesNotContain(entries, e => e.StartsWith("analyzers/", StringComparison.Ordinal));
        XElement metadata = Nuspec(package);
        Assert.Equal("MIT", Element(metadata, "license").Value);
        XElement cacheGen = Assert.Single(metadata.Descendants(), e => e.Name.LocalName == "dependency" && e.Attribute("id")?.Value == "CacheGen");
        Assert.Equal(_version, cacheGen.Attribute("version")?.Value);
        // Analyzers must flow to whoever references CacheGen.Redis alone.
        Assert.DoesNotContain("Analyzers", cacheGen.Attribute("exclude")?.Value ?? "");
    }

    private static XElement Nuspec(ZipArchive package)
    {
        ZipArchiveEntry entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static XElement Element(XElement metadata, string name) => metadata.Elements().Single(e => e.Name.LocalName == name);

    private static string Run(string file, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        // The child must not inherit this test host's MSBuild/SDK environment (it would build with the wrong SDK state).
        foreach (string variable in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
            start.Environment.Remove(variable);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in 3 minutes");
        }
        string output = stdout.Result + stderr.Result;
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{output}");
        return output;
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

    public void Dispose()
    {
        Directory.Delete(_work, recursive: true);
        // The test's packages were extracted into the global package folder; remove just this version.
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "cachegen", "cachegen.redis" })
        {
            string folder = Path.Combine(packages, id, _version);
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
