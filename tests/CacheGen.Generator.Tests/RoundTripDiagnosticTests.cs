using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Tests;

/// <summary>
/// CG0020 to CG0023: what the compiler can see about a cached value type that would not read back from the cache as
/// the core method returned it, with System.Text.Json's default options.
/// </summary>
public sealed class RoundTripDiagnosticTests
{
    private const string Prelude = """
        using System.Collections.Generic;
        using System.Text.Json.Serialization;
        using System.Threading.Tasks;
        using CacheGen;
        using Microsoft.Extensions.Caching.Hybrid;
        namespace App;

        """;

    private static Diagnostic[] RoundTripDiagnostics(string cachedType, string types)
    {
        GeneratorRun run = GeneratorHarness.Run(Prelude + types + $$"""

            public partial class Service(HybridCache cache)
            {
                [Cached("items")]
                public partial Task<{{cachedType}}> GetAsync(int id);
                private Task<{{cachedType}}> GetCoreAsync(int id) => Task.FromResult<{{cachedType}}>(default!);
            }
            """);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Empty(run.AnalyzerDiagnostics);
        Diagnostic[] found = run.GeneratorDiagnostics.Where(d => d.Id is "CG0020" or "CG0021" or "CG0022" or "CG0023").ToArray();
        Assert.All(found, d =>
        {
            Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
            Assert.Equal(cachedType, run.Input.SyntaxTrees[0].GetText().ToString(d.Location.SourceSpan)); // at the T of Task<T>
        });
        return found;
    }

    [Fact]
    public void CG0020_several_public_constructors_and_none_chosen()
    {
        Diagnostic d = Assert.Single(RoundTripDiagnostics("Money", """
            public sealed class Money
            {
                public Money(decimal amount) { Amount = amount; Currency = "EUR"; }
                public Money(decimal amount, string currency) { Amount = amount; Currency = currency; }
                public decimal Amount { get; }
                public string Currency { get; }
            }
            """));
        Assert.Equal("CG0020", d.Id);
        Assert.Contains("cannot create 'Money'", d.GetMessage());
        Assert.Contains("2 public constructors", d.GetMessage());
    }

    [Fact]
    public void CG0020_no_public_constructor_in_an_element_type()
    {
        Diagnostic d = Assert.Single(RoundTripDiagnostics("IReadOnlyList<Token>", """
            public sealed class Token
            {
                private Token() { }
                public static Token Create() => new();
                public string Value { get; set; } = "";
            }
            """));
        Assert.Equal("CG0020", d.Id);
        Assert.Contains("no public constructor", d.GetMessage());
    }

    [Fact]
    public void CG0021_get_only_property_without_a_constructor_parameter()
    {
        Diagnostic[] found = RoundTripDiagnostics("Order", """
            public sealed class Order
            {
                public int Id { get; set; }
                public List<string> Lines { get; } = new();
                public decimal Total { get; private set; }
                public int LineCount => Lines.Count;
            }
            """);
        Assert.Equal(["CG0021", "CG0021"], found.Select(d => d.Id));
        Assert.Contains(found, d => d.GetMessage().Contains("property 'Order.Lines'", StringComparison.Ordinal));
        Assert.Contains(found, d => d.GetMessage().Contains("property 'Order.Total'", StringComparison.Ordinal));
    }

    [Fact]
    public void CG0021_struct_get_only_property_is_not_restored_by_its_constructor_without_json_constructor()
    {
        Diagnostic d = Assert.Single(RoundTripDiagnostics("Range", """
            public readonly struct Range(int from, int to)
            {
                [JsonInclude] public int From { get; } = from;
                public int To { get; } = to;
                public bool IsEmpty => From >= To;
            }
            """));
        Assert.Equal("CG0021", d.Id);
        Assert.Contains("'Range.To'", d.GetMessage());
    }

    [Fact]
    public void CG0021_initializer_from_a_constructor_parameter_the_json_does_not_supply()
    {
        Diagnostic d = Assert.Single(RoundTripDiagnostics("Span", """
            public sealed class Span(int from, int length)
            {
                public int From { get; } = from;
                public int End { get; } = from + length;
            }
            """));
        Assert.Equal("CG0021", d.Id);
        Assert.Contains("'Span.End'", d.GetMessage());
    }

    [Fact]
    public void CG0022_public_fields_and_value_tuples()
    {
        Diagnostic[] found = RoundTripDiagnostics("(int Count, Point Origin)", """
            public sealed class Point { public int X; public int Y { get; set; } [JsonInclude] public int Z; }
            """);
        Assert.Equal(["CG0022"], found.Select(d => d.Id).Distinct());
        Assert.Contains(found, d => d.GetMessage().Contains("is a value tuple", StringComparison.Ordinal));

        Diagnostic field = Assert.Single(RoundTripDiagnostics("IReadOnlyList<Point>", """
            public sealed class Point { public int X; public int Y { get; set; } [JsonInclude] public int Z; }
            """));
        Assert.Contains("'Point.X' is a public field", field.GetMessage());
    }

    [Fact]
    public void CG0023_dictionary_keyed_by_a_tuple_or_a_class()
    {
        Diagnostic[] found = RoundTripDiagnostics("Dictionary<(int, int), string>", "");
        Diagnostic d = Assert.Single(found);
        Assert.Equal("CG0023", d.Id);
        Assert.Contains("'(int, int)'", d.GetMessage());

        Diagnostic nested = Assert.Single(RoundTripDiagnostics("Report", """
            public sealed record Key(int A);
            public sealed record Report(IReadOnlyDictionary<Key, int> Counts);
            """));
        Assert.Equal("CG0023", nested.Id);
    }

    [Theory]
    [InlineData("string", "")]
    [InlineData("int", "")]
    [InlineData("JsonPayload", "")]
    [InlineData("Post", "public sealed record Post(int Id, string Title, IReadOnlyList<Post> Replies);")] // primary constructor, and a cycle
    [InlineData("Post", "public record Post(int Id) { public Post() : this(0) { } public string Title { get; init; } = \"\"; }")]
    [InlineData("Money", "public sealed class Money(decimal amount, string currency) { public decimal Amount { get; } = amount; public string Currency { get; } = currency; }")]
    [InlineData("Money", "public sealed class Money { public Money() { } [JsonConstructor] public Money(decimal amount) { Amount = amount; } public decimal Amount { get; } }")]
    [InlineData("Bag", "public sealed class Bag { [JsonInclude] public List<int> Items { get; private set; } = new(); [JsonIgnore] public int Ignored; public int Count => Items.Count; }")]
    [InlineData("Post", "public sealed record Post(string Title) { public string Slug { get; } = Title.ToLowerInvariant(); public int Version { get; } = 1; }")] // initializers run again
    [InlineData("Dictionary<string, List<System.Guid>>", "")]
    [InlineData("Dictionary<System.Guid, Post>", "public sealed record Post(int Id);")]
    [InlineData("Dictionary<Color, int>", "public enum Color { Red }")]
    [InlineData("KeyValuePair<string, int>[]", "")]
    [InlineData("Point", "public record struct Point(int X, int Y);")]
    public void AreSilentForTypesThatRoundTrip(string cachedType, string types) =>
        Assert.Empty(RoundTripDiagnostics(cachedType, types));
}
