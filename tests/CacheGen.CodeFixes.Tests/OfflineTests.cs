using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace CacheGen.CodeFixes.Tests;

/// <summary>The code-fix tests never reach for the network: they name no NuGet package and have no package source.</summary>
public sealed class OfflineTests
{
    [Fact]
    public async Task ReferenceAssemblies_name_no_package_and_resolve_with_no_package_source()
    {
        ReferenceAssemblies offline = CodeFixTest<MakePartialCodeFixProvider>.Offline;
        Assert.Null(offline.ReferenceAssemblyPackage);
        Assert.Empty(offline.Packages);
        Assert.Empty(offline.Assemblies);
        Assert.Contains("<clear />", File.ReadAllText(offline.NuGetConfigFilePath!));

        // With no source configured, any attempt to download would throw here.
        var references = await offline.ResolveAsync(LanguageNames.CSharp, CancellationToken.None);
        Assert.Empty(references);

        // The testing library's download folder holds at most its lock file: no package was ever extracted there.
        string downloads = Path.Combine(Path.GetTempPath(), "test-packages");
        if (Directory.Exists(downloads))
            Assert.Empty(Directory.GetDirectories(downloads));
    }
}
