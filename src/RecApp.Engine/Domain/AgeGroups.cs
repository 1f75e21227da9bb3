namespace RecApp.Engine.Domain;

/// <summary>The age groups stored in <c>users.age_group</c>, shared by the generator and the importers.</summary>
public static class AgeGroups
{
    public static IReadOnlyList<string> All { get; } = ["under-18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

    public static string FromAge(int age) => age switch
    {
        < 18 => "under-18",
        < 25 => "18-24",
        < 35 => "25-34",
        < 45 => "35-44",
        < 55 => "45-54",
        < 65 => "55-64",
        _ => "65+",
    };
}
