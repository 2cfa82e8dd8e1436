using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Freshness (JitterPercent): CG0050 fires at the named argument with a message saying what to change, and the
/// corrected code is silent and compiles cleanly.
/// </summary>
public sealed class FreshnessDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Rates(string Currency, decimal Usd);

        """;

    // ---- CG0050: a percentage out of range ----------------------------------------------------------------------------

    [Theory]
    [InlineData(-1)]
    [InlineData(100)]
    [InlineData(250)]
    public void CG0050_JitterPercent_is_0_to_99(int jitter) => Check("CG0050",
        $$"""
        public partial class RateService(HybridCache cache)
        {
            [Cached("rates", TtlSeconds = 60, [|JitterPercent = {{jitter}}|])]
            public partial Task<Rates> GetRatesAsync(string currency);
            private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));
        }
        """,
        """
        public partial class RateService(HybridCache cache)
        {
            [Cached("rates", TtlSeconds = 60, JitterPercent = 10)]
            public partial Task<Rates> GetRatesAsync(string currency);
            private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));
        }
        """,
        ["'GetRatesAsync'", $"JitterPercent = {jitter}", "0 (off) to 99"]);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(99)]
    public void JitterPercent_0_to_99_is_silent_on_every_return_shape(int jitter)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + $$"""
            public partial class RateService(HybridCache cache)
            {
                [Cached("rates", JitterPercent = {{jitter}})]
                public partial Task<Rates> GetRatesAsync(string currency);
                private Task<Rates> GetRatesCoreAsync(string currency) => Task.FromResult(new Rates(currency, 1m));

                [Cached("counts", TtlSeconds = 5, JitterPercent = {{jitter}})]
                public partial int Count(string region);
                private int CountCore(string region) => region.Length;

                [Cached("counts", JitterPercent = {{jitter}})]
                public partial ValueTask<long> Total(string region);
                private ValueTask<long> TotalCore(string region) => new(region.Length);
            }
            """);
        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Equal(3, run.Sources.Length);
        Assert.Equal(jitter > 0 ? 3 : 0, run.Sources.Count(s => s.SourceText.ToString().Contains($"JitterPercent = {jitter} }}", StringComparison.Ordinal)));
    }

    private static void Check(string id, string misuse, string corrected, string[] named, DiagnosticSeverity severity = DiagnosticSeverity.Error) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, severity);
}
