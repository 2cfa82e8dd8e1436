namespace CacheGen.Packaging.Tests;

/// <summary>A shell command a README tells users to run, and what runs it verbatim (or why nothing does).</summary>
/// <param name="Command">The command exactly as the README writes it, without its trailing <c># comment</c>.</param>
/// <param name="RunBy">The test (<c>Class.Method</c>) or CI script that runs it verbatim; null when nothing does.</param>
/// <param name="NotRunBecause">Why no test runs it (long forms and benchmarks); null when something does.</param>
internal sealed record ReadmeCommand(string Command, string? RunBy, string? NotRunBecause = null)
{
    /// <summary>True when <see cref="RunBy"/> is a script in the repository rather than a test.</summary>
    public bool IsScript => RunBy is not null && RunBy.Contains('/', StringComparison.Ordinal);
}

/// <summary>
/// Every shell command that README.md and runtime/*/README.md give, with what runs it. <see cref="ReadmeCommandTests"/>
/// reads the READMEs and fails on a command missing here (so a new one must come with its test) and on an entry no
/// README has any more. The tests that run these commands use the constants below, so they run exactly the README's
/// text; the only substitution is <see cref="PackageFolder"/>, the folder the README lets users choose.
/// </summary>
internal static class ReadmeCommands
{
    /// <summary>The README's "any folder you like" for packages; tests put a temporary folder in its place.</summary>
    public const string PackageFolder = "~/cachegen-packages";

    public const string Demo = "./demo.sh";
    public const string TestAll = "./test.sh";
    public const string AddPost = "dotnet run --project sample-api -- addpost 1000";
    public const string RunSample = "dotnet run --project sample-api";
    public const string PackAtRoot = "dotnet pack -c Release -o ~/cachegen-packages";
    public const string PackCacheGen = "dotnet pack runtime/CacheGen -c Release -o ~/cachegen-packages";
    public const string PackCacheGenRedis = "dotnet pack runtime/CacheGen.Redis -c Release -o ~/cachegen-packages";
    public const string NewNuGetConfig = "dotnet new nugetconfig";
    public const string AddPackageSource = "dotnet nuget add source ~/cachegen-packages --name cachegen-packages --configfile nuget.config";
    public const string AddCacheGenRedis = "dotnet add package CacheGen.Redis";
    public const string AddCacheGen = "dotnet add package CacheGen";
    public const string PublishAot = "dotnet publish sample-api -c Release -r linux-x64 -p:PublishAot=true";
    public const string InstallTool = "dotnet tool install --global CacheGen.Tool --add-source ~/cachegen-packages";
    public const string RestoreTools = "dotnet tool restore";
    public const string RestoreForDesign = "EFDesign=true dotnet restore sample-api";
    public const string PrecompileQueries = "EFDesign=true dotnet ef dbcontext optimize --project sample-api --precompile-queries --nativeaot -o obj/ef-aot -n CacheGen.SampleApi.CompiledModel -c PostsContext";

    private const string LongForm = "the long form of a test whose short form every CI run executes (./test.sh); it takes many minutes";
    private const string Benchmark = "a benchmark: it measures rather than checks, and takes minutes; bench/README.md documents its runs";
    private const string Part = "a filtered part of the suite that every CI run executes whole (./test.sh), to run those tests alone";

    public static readonly IReadOnlyList<ReadmeCommand> All =
    [
        new(Demo, $"{nameof(SampleCommandTests)}.{nameof(SampleCommandTests.Demo_script_runs_to_the_end)}"),
        // The test suite cannot run itself: .ci/run (the CI entry point) runs this line.
        new(TestAll, ".ci/run"),
        new(AddPost, $"{nameof(SampleCommandTests)}.{nameof(SampleCommandTests.Addpost_then_dotnet_run_serves_the_posts_without_redis)}"),
        new(RunSample, $"{nameof(SampleCommandTests)}.{nameof(SampleCommandTests.Addpost_then_dotnet_run_serves_the_posts_without_redis)}"),
        new(PackAtRoot, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_install_packs_at_the_root_and_a_fresh_console_app_adds_builds_and_runs_CacheGen_Redis)}"),
        new(NewNuGetConfig, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_install_packs_at_the_root_and_a_fresh_console_app_adds_builds_and_runs_CacheGen_Redis)}"),
        new(AddPackageSource, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_install_packs_at_the_root_and_a_fresh_console_app_adds_builds_and_runs_CacheGen_Redis)}"),
        new(AddCacheGenRedis, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_install_packs_at_the_root_and_a_fresh_console_app_adds_builds_and_runs_CacheGen_Redis)}"),
        new(InstallTool, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_install_packs_at_the_root_and_a_fresh_console_app_adds_builds_and_runs_CacheGen_Redis)}"),
        new(PackCacheGen, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_packs_each_project_alone_and_CacheGen_alone_restores_in_a_fresh_console_app)}"),
        new(PackCacheGenRedis, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_packs_each_project_alone_and_CacheGen_alone_restores_in_a_fresh_console_app)}"),
        new(AddCacheGen, $"{nameof(PackagingTests)}.{nameof(PackagingTests.Readme_packs_each_project_alone_and_CacheGen_alone_restores_in_a_fresh_console_app)}"),
        // A Native AOT publish takes 1-2 minutes and needs clang: the CI's AOT check runs this very line and then the
        // binary. PackagingTests.Restore_with_PublishAot_on_the_command_line_succeeds guards the NETSDK1207 part cheaply.
        new(PublishAot, ".ci/aot-smoke"),
        // EF Core's query precompilation for that publish: minutes, and only meaningful before it.
        new(RestoreTools, ".ci/aot-smoke"),
        new(RestoreForDesign, ".ci/aot-smoke"),
        new(PrecompileQueries, ".ci/aot-smoke"),

        new("CACHEGEN_CHECKER_SECONDS=300 dotnet test tests/CacheGen.Consistency.Tests -c Release --logger \"console;verbosity=detailed\"", null, LongForm),
        new("CACHEGEN_FAULT_LONG=1 dotnet test tests/CacheGen.SampleApi.Tests -c Release --filter FaultTests", null, LongForm),
        new("CACHEGEN_KEYS_TUPLES=1000000 dotnet test tests/CacheGen.Redis.Tests -c Release --filter KeyPropertyTests", null, LongForm),
        new("CACHEGEN_KEYS_TUPLES=1000000 dotnet test tests/CacheGen.Redis.Tests -c Release --filter FullyQualifiedName~KeyPropertyTests", null, LongForm),
        new("dotnet run -c Release --project bench/CacheGen.Generator.Benchmarks -- --quick", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Generator.Benchmarks -- --filter '*'", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Benchmarks -- --filter '*L1Hit*' '*Wrapper*' --warmupCount 5 --iterationCount 20", null, Benchmark),
        new("ROUNDS=3 SECONDS_PER_RUN=8 bench/load/run.sh", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Benchmarks -- --scenario put-under-read-load", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Benchmarks -- --scenario refresh-ahead", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Benchmarks -- --filter '*BatchBenchmarks*' --job short", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Benchmarks -- --filter '*PayloadCodec*' '*CompressionBenchmarks*' --job short", null, Benchmark),
        new("dotnet run -c Release --project bench/CacheGen.Benchmarks -- --scenario compression-interleaved", null, Benchmark),
        new("dotnet test tests/CacheGen.Contract.Tests -c Release --filter \"DisplayName~Garnet\"", null, Part),
        new("dotnet test tests/CacheGen.Redis.Tests -c Release --filter \"FullyQualifiedName~GarnetTests\"", null, Part),
        new("dotnet test tests/CacheGen.Consistency.Tests -c Release --filter \"FullyQualifiedName~Under_faults\" --logger \"console;verbosity=detailed\"", null, Part),
    ];
}
