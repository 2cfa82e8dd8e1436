using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>
/// Misuses of <c>[CacheDecorator]</c>: each is one error at the user's code, from the generator, with no C# error in
/// generated code, and the corrected decorator compiles cleanly.
/// </summary>
public sealed class DecoratorDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        public interface IExchangeRates
        {
            Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
            Task<string> NameAsync();
        }

        public interface IRepository<T> { Task<T?> FindAsync(int id); }

        """;

    private const string Corrected = """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class CachedRates(IExchangeRates inner, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
        }
        """;

    private static void Check(string id, string misuse, string[] named, string corrected = Corrected) =>
        DiagnosticCheck.Check(Prelude, id, misuse, corrected, named, DiagnosticSeverity.Error);

    [Fact]
    public void CG0060_the_decorated_type_is_not_an_interface() => Check("CG0060",
        """
        public class HttpRates { }

        [CacheDecorator([|typeof(HttpRates)|])]
        public sealed partial class CachedRates(IExchangeRates inner, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
        }
        """,
        ["CachedRates", "HttpRates", "not an interface"]);

    [Fact]
    public void CG0061_no_inner_parameter() => Check("CG0061",
        """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class [|CachedRates|](HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
        }
        """,
        ["CachedRates", "IExchangeRates", "(it has none)"]);

    [Fact]
    public void CG0061_two_inner_parameters() => Check("CG0061",
        """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class [|CachedRates|](IExchangeRates primary, IExchangeRates fallback, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
        }
        """,
        ["CachedRates", "IExchangeRates", "it has 2: primary, fallback"]);

    [Fact]
    public void CG0061_no_primary_constructor() => Check("CG0061",
        """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class [|CachedRates|]
        {
            private readonly IExchangeRates _inner;
            public CachedRates(IExchangeRates inner) => _inner = inner;
        }
        """,
        ["CachedRates", "no primary constructor"]);

    [Fact]
    public void CG0061_abstract_class() => Check("CG0061",
        """
        [CacheDecorator(typeof(IExchangeRates))]
        public abstract partial class [|CachedRates|](IExchangeRates inner, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
        }
        """,
        ["CachedRates", "abstract"]);

    [Fact]
    public void CG0062_method_matches_no_interface_member() => Check("CG0062",
        """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class CachedRates(IExchangeRates inner, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> [|GetRateAsync|](string from, string to);
        }
        """,
        ["GetRateAsync", "IExchangeRates", "GetRateCoreAsync"]);

    [Fact]
    public void CG0062_is_not_reported_when_the_core_is_written() => Assert.Empty(GeneratorHarness.Run(Prelude + """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed partial class CachedRates(IExchangeRates inner, HybridCache cache)
        {
            [Cached("rates", Key = "{from}:{to}")]
            public partial Task<decimal> GetRateAsync(string from, string to);
            private Task<decimal> GetRateCoreAsync(string from, string to) => inner.GetRateAsync(from, to);
        }
        """).CacheGenDiagnostics);

    [Fact]
    public void CG0063_decorator_is_not_partial() => Check("CG0063",
        """
        [CacheDecorator(typeof(IExchangeRates))]
        public sealed class [|CachedRates|](IExchangeRates inner, HybridCache cache)
        {
        }
        """,
        ["CachedRates", "partial", "IExchangeRates"]);

    [Fact]
    public void CG0063_is_reported_once_at_the_type_instead_of_CG0002_per_method()
    {
        (string source, Microsoft.CodeAnalysis.Text.TextSpan span) = DiagnosticCheck.ExtractSpan(Prelude + """
            public static class [|Outer|]
            {
                [CacheDecorator(typeof(IExchangeRates))]
                public sealed partial class CachedRates(IExchangeRates inner, HybridCache cache)
                {
                    [Cached("rates", Key = "{from}:{to}")]
                    public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);

                    [Cached("rates")]
                    public partial Task<string> NameAsync();
                }
            }
            """);
        GeneratorRun run = GeneratorHarness.Run(source);

        Diagnostic error = Assert.Single(run.CacheGenDiagnostics);
        Assert.Equal("CG0063", error.Id);
        Assert.Equal(span, error.Location.SourceSpan);
        Assert.DoesNotContain(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree?.FilePath != "Source0.cs");
    }

    [Fact]
    public void CG0064_open_generic_interface() => Check("CG0064",
        """
        [CacheDecorator([|typeof(IRepository<>)|])]
        public sealed partial class CachedRepository<T>(IRepository<T> inner, HybridCache cache)
        {
        }
        """,
        ["CachedRepository", "IRepository<>", "typeof(IRepository<Post>)"],
        """
        [System.ComponentModel.ImmutableObject(true)]
        public sealed record Post(int Id);

        [CacheDecorator(typeof(IRepository<Post>))]
        public sealed partial class CachedRepository(IRepository<Post> inner, HybridCache cache)
        {
            [Cached("posts", Key = "post:{id}")]
            public partial Task<Post?> FindAsync(int id);
        }
        """);

    [Fact]
    public void CG0005_a_cached_decorator_method_whose_return_type_cannot_be_cached() => Check("CG0005",
        """
        public interface ISink { Task FlushAsync(); Task<int> CountAsync(); }

        [CacheDecorator(typeof(ISink))]
        public sealed partial class CachedSink(ISink inner, HybridCache cache)
        {
            [Cached("sink")]
            public partial [|Task|] FlushAsync();
        }
        """,
        ["FlushAsync", "Task"],
        """
        public interface ISink { Task FlushAsync(); Task<int> CountAsync(); }

        [CacheDecorator(typeof(ISink))]
        public sealed partial class CachedSink(ISink inner, HybridCache cache)
        {
            [InvalidatesCache("sink")]
            public partial Task FlushAsync();

            [Cached("sink")]
            public partial Task<int> CountAsync();
        }
        """);

    [Fact]
    public void A_typo_in_the_interface_name_is_the_compilers_error_alone()
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + """
            [CacheDecorator(typeof(IExchangeRatez))]
            public sealed partial class CachedRates(IExchangeRates inner, HybridCache cache)
            {
                [Cached("rates", Key = "{from}:{to}")]
                public partial Task<decimal> GetRateAsync(string from, string to, CancellationToken ct = default);
            }
            """);

        Assert.Empty(run.CacheGenDiagnostics);
        Diagnostic error = Assert.Single(run.Output.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
        Assert.Equal("CS0246", error.Id);
    }
}
