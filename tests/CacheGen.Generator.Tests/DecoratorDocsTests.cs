using System.Collections.Immutable;
using Basic.Reference.Assemblies;
using CacheGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace CacheGen.Generator.Tests;

/// <summary>The complete example of docs/decorators.md compiles, as a console app, with the generator and no diagnostic.</summary>
public sealed class DecoratorDocsTests
{
    private const string Marker = "<!-- compiled: DecoratorDocsTests -->";

    // What a console project gets from the SDK's implicit usings.
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [Fact]
    public void The_complete_example_compiles_with_the_generator_and_no_diagnostic()
    {
        string page = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "decorators.md")).Replace("\r\n", "\n");
        int marker = page.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, $"docs/decorators.md has no {Marker}");
        int start = page.IndexOf("```csharp\n", marker, StringComparison.Ordinal) + "```csharp\n".Length;
        string example = page[start..page.IndexOf("\n```", start, StringComparison.Ordinal)];
        Assert.Contains("[CacheDecorator(typeof(IExchangeRates))]", example);
        Assert.Contains("AddCacheGenDecorator<IExchangeRates, CachedExchangeRates>()", example);

        // As a console app referencing CacheGen.Redis would: the .NET reference assemblies, CacheGen, CacheGen.Redis
        // and the Microsoft.Extensions packages they bring (all beside this test).
        ImmutableArray<MetadataReference> references =
        [
            .. Net100.References.All,
            .. new[] { "CacheGen.dll", "CacheGen.Redis.dll", "StackExchange.Redis.dll" }
                .Concat(Directory.GetFiles(AppContext.BaseDirectory, "Microsoft.Extensions.*.dll").Select(Path.GetFileName)!)
                .Select(file => MetadataReference.CreateFromFile(Path.Combine(AppContext.BaseDirectory, file!))),
        ];
        CSharpCompilation compilation = CSharpCompilation.Create(
            "DocsExample",
            [
                CSharpSyntaxTree.ParseText(ImplicitUsings, GeneratorHarness.ParseOptions, path: "GlobalUsings.cs"),
                CSharpSyntaxTree.ParseText(example, GeneratorHarness.ParseOptions, path: "Program.cs"),
            ],
            references,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        GeneratorRun run = GeneratorHarness.Run(compilation);

        Assert.Empty(run.CacheGenDiagnostics);
        Assert.Empty(run.CompilationDiagnostics);
        Assert.Contains(run.Sources, s => s.HintName.Contains("CachedExchangeRates.CacheDecorator", StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CacheGen.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("CacheGen.sln not found above " + AppContext.BaseDirectory);
    }
}
