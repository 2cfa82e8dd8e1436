using System.IO.Compression;
using System.Xml.Linq;
using CacheGen.Testing;

namespace CacheGen.Packaging.Tests;

/// <summary>
/// The README's install path, run as it is written, in a copy of the repository: pack at the root, make a fresh
/// console app, give it the packages' folder as a source with the README's nuget.config lines, add CacheGen.Redis, and
/// build and run the app against a real redis-server. The app restores into an empty NuGet package folder, as on a
/// machine that never restored these dependencies, so a recipe that loses nuget.org cannot pass on a warm cache.
/// </summary>
[Collection(RepositoryCopyCollection.Name)]
public sealed class PackagingTests(RepositoryCopy repository) : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("cachegen-pack-").FullName;

    /// <summary>The environment of a user's app: an empty package folder of its own.</summary>
    private Dictionary<string, string> FreshUser => new() { ["NUGET_PACKAGES"] = Path.Combine(_work, "nuget-packages") };

    [Fact]
    public void Readme_install_packs_at_the_root_and_a_fresh_console_app_adds_builds_and_runs_CacheGen_Redis()
    {
        string packages = Path.Combine(_work, "cachegen-packages");
        Processes.Shell(ReadmeCommands.PackAtRoot, repository.Root, packages);

        string cacheGenPackage = SinglePackage(packages, "CacheGen");
        string version = Path.GetFileNameWithoutExtension(cacheGenPackage)["CacheGen.".Length..];
        CheckCacheGenPackage(cacheGenPackage);
        CheckRedisPackage(SinglePackage(packages, "CacheGen.Redis"), version);
        Assert.True(File.Exists(Path.Combine(packages, $"CacheGen.{version}.snupkg")), "no symbol package");
        // Six packages, and each opens on nuget.org (or in the IDE's package manager) with its own README.
        string[] all = Directory.GetFiles(packages, "*.nupkg");
        Assert.Equal(6, all.Length);
        foreach (string package in all)
            CheckPackageReadme(package);

        // "Your app": a fresh console app, then the README's three lines in its folder.
        string app = NewConsoleApp("app");
        // What the README used to say, and says does not work: --source replaces nuget.org, so no dependency resolves.
        (int exitCode, string output) = Processes.TryRun("bash", app, FreshUser, "-c", $"dotnet add package CacheGen.Redis --source {packages}");
        Assert.True(exitCode != 0 && output.Contains("NU1101", StringComparison.Ordinal), $"--source alone was expected to fail with NU1101:\n{output}");
        Processes.Shell(ReadmeCommands.NewNuGetConfig, app, packages, FreshUser);
        Processes.Shell(ReadmeCommands.AddPackageSource, app, packages, FreshUser);
        Processes.Shell(ReadmeCommands.AddCacheGenRedis, app, packages, FreshUser);
        string project = File.ReadAllText(Path.Combine(app, "app.csproj"));
        Assert.Contains($"<PackageReference Include=\"CacheGen.Redis\" Version=\"{version}\" />", project);

        // The code of steps 2 to 5, on the generic host (DI and configuration), which comes with the shared framework.
        File.WriteAllText(Path.Combine(app, "app.csproj"), project.Replace(
            "<PackageReference Include=\"CacheGen.Redis\"",
            "<FrameworkReference Include=\"Microsoft.AspNetCore.App\" />\n    <PackageReference Include=\"CacheGen.Redis\"", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(app, "Program.cs"), Program);

        string build = Processes.Run("dotnet", app, FreshUser, "build", "-c", "Release", "-nologo");
        // The analyzer shipped too: the deliberately unused "audit" region is CG0013, and it is the only warning.
        Assert.Contains("warning CG0013", build);
        Assert.Contains("1 Warning(s)", build);

        using RedisServer redis = RedisServer.Start();
        output = Processes.Run("dotnet", app, FreshUser, "bin/Release/net10.0/app.dll", $"--CacheGen:Redis={redis.Configuration}",
            "--CacheGen:KeyPrefix=packtest", "--Logging:LogLevel:Default=Warning");
        Assert.Contains("first=701 again=701 calls=1", output);
        Assert.Contains("after-reset=702 calls=2", output);
        Assert.Contains("packtest:1:{numbers}:n:7", redis.Cli("KEYS", "packtest:*"));

        // The inspector from the same pack, installed as the README says (into a home of its own), on the app's data.
        string home = Path.Combine(_work, "home");
        Directory.CreateDirectory(home);
        var toolUser = new Dictionary<string, string>(FreshUser) { ["HOME"] = home, ["DOTNET_CLI_HOME"] = home };
        Processes.Shell(ReadmeCommands.InstallTool, _work, packages, toolUser);
        output = Processes.Run(Path.Combine(home, ".dotnet", "tools", "cachegen"), _work, toolUser, "regions",
            $"--CacheGen:Redis={redis.Configuration}", "--CacheGen:KeyPrefix=packtest");
        Assert.Matches(@"\nnumbers\s+\d+\s+1\s", output);
    }

    [Fact]
    public void Readme_packs_each_project_alone_and_CacheGen_alone_restores_in_a_fresh_console_app()
    {
        string packages = Path.Combine(_work, "cachegen-packages");
        Processes.Shell(ReadmeCommands.PackCacheGen, repository.Root, packages);
        CheckCacheGenPackage(SinglePackage(packages, "CacheGen"));
        Assert.Empty(Directory.GetFiles(packages, "CacheGen.Redis.*.nupkg"));
        Processes.Shell(ReadmeCommands.PackCacheGenRedis, repository.Root, packages);
        SinglePackage(packages, "CacheGen.Redis");

        // The runtime/CacheGen README's line: CacheGen alone (for Microsoft's HybridCache or another implementation).
        string app = NewConsoleApp("attributes-only");
        Processes.Shell(ReadmeCommands.NewNuGetConfig, app, packages, FreshUser);
        Processes.Shell(ReadmeCommands.AddPackageSource, app, packages, FreshUser);
        Processes.Shell(ReadmeCommands.AddCacheGen, app, packages, FreshUser);
        Assert.Contains("<PackageReference Include=\"CacheGen\"", File.ReadAllText(Path.Combine(app, "attributes-only.csproj")));
    }

    /// <summary>
    /// The NETSDK1207 part of the README's Native AOT line, which CI runs whole in .ci/aot-smoke: PublishAot on the
    /// command line reaches every project restore walks, the netstandard2.0 generator included.
    /// </summary>
    [Fact]
    public void Restore_with_PublishAot_on_the_command_line_succeeds()
    {
        string output = Processes.Run("dotnet", repository.Root, null, "restore", "sample-api", "-r", "linux-x64", "-p:PublishAot=true");
        Assert.DoesNotContain("NETSDK1207", output);
    }

    private string NewConsoleApp(string name)
    {
        string app = Path.Combine(_work, name);
        Processes.Run("dotnet", _work, FreshUser, "new", "console", "-o", app, "--no-restore");
        return app;
    }

    private static string SinglePackage(string folder, string id) =>
        Assert.Single(Directory.GetFiles(folder, id + ".*.nupkg"), f => char.IsAsciiDigit(Path.GetFileName(f)[id.Length + 1]));

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

    private static void CheckCacheGenPackage(string path)
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
        // Only abstractions (HybridCache, and DI for AddCacheGenDecorator): the generator and code fixes are not package dependencies.
        Assert.DoesNotContain(metadata.Descendants().Where(e => e.Name.LocalName == "dependency"), d => d.Attribute("id")!.Value.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal));
    }

    private static void CheckRedisPackage(string path, string version)
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
        Assert.Equal(version, cacheGen.Attribute("version")?.Value);
        // Analyzers must flow to whoever references CacheGen.Redis alone.
        Assert.DoesNotContain("Analyzers", cacheGen.Attribute("exclude")?.Value ?? "");
    }

    private static void CheckPackageReadme(string path)
    {
        using ZipArchive package = ZipFile.OpenRead(path);
        ZipArchiveEntry? readme = package.GetEntry("README.md");
        Assert.True(readme is not null, $"{Path.GetFileName(path)} has no README.md");
        Assert.Equal("README.md", Element(Nuspec(package), "readme").Value);
        using var text = new StreamReader(readme.Open());
        Assert.StartsWith("# ", text.ReadToEnd());
    }

    private static XElement Nuspec(ZipArchive package)
    {
        ZipArchiveEntry entry = package.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using Stream stream = entry.Open();
        return XDocument.Load(stream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
    }

    private static XElement Element(XElement metadata, string name) => metadata.Elements().Single(e => e.Name.LocalName == name);

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
