using BenchmarkDotNet.Running;

// `dotnet run -c Release -- --filter '*L1Hit*' --job short`; every BenchmarkDotNet option works. In-process always:
// BenchmarkDotNet's generated project cannot repeat this one's VersionOverride pins under central package management.
// `dotnet run -c Release -- --scenario put-under-read-load`: a hit-ratio comparison, not a BenchmarkDotNet run.
// `dotnet run -c Release -- --scenario refresh-ahead`: read latency across expiries with and without refresh ahead.
if (args is ["--scenario", "put-under-read-load"])
{
    CacheGen.Benchmarks.PutUnderReadLoad.Run();
    return;
}
// `dotnet run -c Release -- --scenario compression-interleaved`: L2 hits with and without compression, taken in turns.
if (args is ["--scenario", "compression-interleaved"])
{
    CacheGen.Benchmarks.CompressionInterleaved.Run();
    return;
}
// `dotnet run -c Release -- --scenario refresh-ahead`: read latency across expiries, with and without refresh ahead.
if (args is ["--scenario", "refresh-ahead"])
{
    CacheGen.Benchmarks.RefreshAheadLoad.Run();
    return;
}
if (!args.Contains("--inProcess", StringComparer.OrdinalIgnoreCase))
    args = [.. args, "--inProcess"];
BenchmarkSwitcher.FromAssembly(typeof(CacheGen.Testing.RedisServer).Assembly).Run(args);
