namespace RecApp.Engine.Domain;

/// <summary>Stored as <c>smallint</c> in <c>interactions.type</c>; names match table <c>interaction_types</c>.</summary>
public enum InteractionType : short
{
    View = 0,
    Click = 1,
    Like = 2,
    WishlistAdd = 3,
    AddToCart = 4,
    Purchase = 5,
    Rating = 6,
}

public static class InteractionTypeNames
{
    private static readonly string[] s_names = ["view", "click", "like", "wishlist_add", "add_to_cart", "purchase", "rating"];

    public static IReadOnlyList<string> All => s_names;

    public static string ToWireName(this InteractionType type) => s_names[(int)type];

    public static bool TryParse(string? name, out InteractionType type)
    {
        var index = name is null ? -1 : Array.IndexOf(s_names, name.ToLowerInvariant());
        type = (InteractionType)Math.Max(index, 0);
        return index >= 0;
    }
}
